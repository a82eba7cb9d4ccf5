"""The digest's trend chart: a readable PNG with gaps for suppressed weeks, and its upload to Slack."""

from __future__ import annotations

import io
import math
import struct

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from PIL import Image

from bot.db import Database
from bot.messenger import DeliveryFailed
from bot.reports.chart import (
    SIZE_PX,
    as_gapped,
    build_figure,
    trend_chart,
    week_labels,
)
from bot.reports.text import sparkline
from bot.settings import Settings
from bot.slack.app import make_services
from bot.slack.messenger import CHART_FILENAME, SlackMessenger
from tests.slack_server import FakeSlack

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WEEKS = [f"2026-W{n}" for n in range(43, 53)] + ["2027-W01", "2027-W02"]
SERIES: dict[str, list[float | None]] = {
    "capability": [3.6, 3.4, None, 2.9, 2.7, 2.8, 3.0, 3.2, 3.3, 3.5, 3.6, 3.7],
    "workload": [3.2, 3.1, None, 2.8, 2.6, 2.7, None, 3.0, 3.1, 3.2, 3.3, 3.3],
    "clarity": [None, None, 2.5, None, None, 2.9, None, None, 3.1, None, None, 3.4],
    "time_saved": [1.5, 1.2, None, 0.8, 0.9, 1.1, 1.4, 1.8, 2.0, 2.2, 2.4, 2.5],
    "upkeep": [0.5, 1.0, None, 1.8, 1.6, 1.4, 1.2, 1.0, 0.9, 0.8, 0.8, 0.7],
}
TITLE = "Rollout Pulse · last 12 weeks"


@pytest.fixture(scope="module")
def png() -> bytes:
    return trend_chart(WEEKS, SERIES, title=TITLE)


def lines_by_label(weeks: list[str], series: dict[str, list[float | None]], **kwargs: object) -> dict[str, Line2D]:
    """The data lines by their label without its direction ("Capability · higher is better" → "Capability")."""
    figure = build_figure(weeks, series, title=TITLE, **kwargs)  # type: ignore[arg-type]
    return {str(line.get_label()).split(" · ")[0]: line for axes in figure.axes for line in axes.get_lines()}


def plain(names: set[str] | list[str]) -> list[str]:
    return sorted(name.split(" · ")[0] for name in names)


def labels(axes: Axes) -> set[str]:
    """Labels of the data lines (reference lines such as the zero line have private "_" labels,
    and the × key for weeks with too few answers is not a series)."""
    return {label for line in axes.get_lines() if not (label := str(line.get_label())).startswith(("_", "×"))}


def legend(axes: Axes) -> list[str]:
    box = axes.get_legend()
    assert box is not None
    return [text.get_text() for text in box.get_texts()]


def png_chunk_types(data: bytes) -> list[bytes]:
    types, at = [], len(PNG_MAGIC)
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        types.append(data[at + 4 : at + 8])
        at += 12 + length
    return types


# -- the image ---------------------------------------------------------------------------------


def test_the_chart_is_a_png_of_slack_preview_size(png: bytes) -> None:
    assert png.startswith(PNG_MAGIC)
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every row: a truncated or corrupt file fails here
    assert image.format == "PNG"
    assert image.size == SIZE_PX == (1200, 700)


def test_the_same_figures_give_the_same_bytes_and_no_timestamp(png: bytes) -> None:
    assert trend_chart(WEEKS, SERIES, title=TITLE) == png
    chunks = png_chunk_types(png)
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    assert b"tIME" not in chunks
    assert b"Software" not in png and b"Creation Time" not in png


def test_suppressed_weeks_are_gaps_not_interpolated() -> None:
    lines = lines_by_label(WEEKS, SERIES)
    for key, label in [("capability", "Capability"), ("workload", "Workload"), ("clarity", "Clarity"),
                       ("time_saved", "Time saved (self-reported)"), ("upkeep", "AI upkeep")]:
        y = np.asarray(lines[label].get_ydata(), dtype=float)
        expected = SERIES[key]
        assert len(y) == len(WEEKS)
        for plotted, value in zip(y, expected, strict=True):
            if value is None:
                assert math.isnan(plotted)  # NaN breaks the line: nothing is drawn through that week
            else:
                assert plotted == value
    # Markers keep a week that stands alone between two gaps visible.
    assert lines["Clarity"].get_marker() == "o"


def test_as_gapped_turns_none_into_nan() -> None:
    y = as_gapped([1, None, 2.5])
    assert y[0] == 1.0 and math.isnan(y[1]) and y[2] == 2.5


def test_a_series_with_nothing_to_show_says_so_in_the_legend() -> None:
    series: dict[str, list[float | None]] = {**SERIES, "clarity": [None] * len(WEEKS)}
    figure = build_figure(WEEKS, series, title=TITLE)
    assert "Clarity · higher is better (not shown: too few answers)" in labels(figure.axes[0])
    never_asked = {"clarity": [False] * len(WEEKS)}
    figure = build_figure(WEEKS, series, title=TITLE, asked=never_asked)
    assert "Clarity · higher is better (not asked in these weeks)" in labels(figure.axes[0])


def test_time_saved_is_labelled_self_reported_and_never_charted_alone() -> None:
    figure = build_figure(WEEKS, SERIES, title=TITLE)
    scores, hours = figure.axes[:2]
    assert labels(hours) == {"Time saved (self-reported) · higher is better", "AI upkeep · lower is better"}
    assert "self-reported" in hours.get_title(loc="left")
    assert plain(labels(scores)) == ["Capability", "Clarity", "Workload"]
    assert legend(hours)[:2] == ["Time saved (self-reported) · higher is better", "AI upkeep · lower is better"]
    with pytest.raises(ValueError, match="beside upkeep"):
        build_figure(WEEKS, {"time_saved": SERIES["time_saved"]}, title=TITLE)


def test_rework_goes_on_a_share_axis_beside_the_hours() -> None:
    rework: list[float | None] = [0.2] * len(WEEKS)
    figure = build_figure(WEEKS, {**SERIES, "rework": rework}, title=TITLE)
    hours = figure.axes[1]
    assert legend(hours)[-1] == "Rework often/always (right axis) · lower is better"
    assert figure.axes[2].get_ylim() == (0.0, 1.0)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="one value per week"):
        build_figure(WEEKS, {"capability": [3.0]}, title=TITLE)
    with pytest.raises(ValueError, match="unknown chart series: morale"):
        build_figure(WEEKS, {"morale": [3.0] * len(WEEKS)}, title=TITLE)


def test_week_labels_are_short_with_the_year_where_it_changes() -> None:
    assert week_labels(["2026-W52", "2027-W01", "2027-W02"]) == ["W52\n2026", "W01\n2027", "W02"]
    assert week_labels(["Nov 3", "Nov 10"]) == ["Nov 3", "Nov 10"]


# -- sparklines --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "kwargs", "expected"),
    [
        ([1, 2, 3, 4, 5], {}, "▁▃▅▆█"),
        ([1.0, None, 5.0], {}, "▁ █"),
        ([None, None], {}, "  "),
        ([], {}, ""),
        ([0, 9], {}, "▁█"),  # outside lo..hi is clamped
        ([3, 3, 3], {}, "▅▅▅"),
        ([0.0, 5.0, 10.0], {"lo": 0, "hi": 10}, "▁▅█"),
        ([math.nan, 1], {}, " ▁"),
    ],
)
def test_sparkline(values: list[float | None], kwargs: dict[str, float], expected: str) -> None:
    assert sparkline(values, **kwargs) == expected


def test_sparkline_needs_a_range() -> None:
    with pytest.raises(ValueError):
        sparkline([1, 2], lo=3, hi=3)


# -- upload through Slack's external upload flow ----------------------------------------------


@pytest.fixture
def messenger(settings: Settings, db: Database) -> SlackMessenger:
    return make_services(settings, db).messenger


def test_the_chart_is_uploaded_with_the_external_flow(messenger: SlackMessenger, slack: FakeSlack, png: bytes) -> None:
    messenger.upload_chart("CCOUNCIL", png, title=TITLE, thread_ts="1700000000.000100")

    (url_call,) = slack.calls_to("files.getUploadURLExternal")
    assert url_call.params["filename"] == CHART_FILENAME
    assert int(url_call.params["length"]) == len(png)
    (upload,) = slack.calls_to("upload")
    file_id = upload.params["file_id"]
    assert slack.uploads == {file_id: png}  # the exact bytes arrived
    (complete,) = slack.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "CCOUNCIL"
    assert complete.params["thread_ts"] == "1700000000.000100"
    assert complete.params["files"] == [{"id": file_id, "title": TITLE}]
    assert [call.method for call in slack.calls] == [
        "files.getUploadURLExternal", "upload", "files.completeUploadExternal",
    ]


def test_a_channel_the_bot_is_not_in_is_a_permanent_failure(
    messenger: SlackMessenger, slack: FakeSlack, png: bytes
) -> None:
    slack.fail("files.completeUploadExternal", error="not_in_channel")
    with pytest.raises(DeliveryFailed) as caught:
        messenger.upload_chart("CELSEWHERE", png, title=TITLE)
    assert caught.value.reason == "not_in_channel"
    assert caught.value.permanent is True


def too_few_marks(axes: Axes) -> dict[str, list[int]]:
    return {str(line.get_label()).removeprefix("_too_few_"): [int(v) for v in line.get_xdata()]
            for line in axes.get_lines() if str(line.get_label()).startswith("_too_few_")}


def test_a_gap_says_whether_the_question_was_asked_or_had_too_few_answers() -> None:
    # Clarity rotates: asked every third week. Its other gaps are weeks it was not asked.
    asked = {"clarity": [i % 3 == 2 for i in range(len(WEEKS))] ,
             "capability": [True] * len(WEEKS), "workload": [True] * len(WEEKS)}
    series = {**SERIES, "clarity": [None, None, 2.5, None, None, None, None, None, 3.1, None, None, 3.4]}
    figure = build_figure(WEEKS, series, title=TITLE, asked=asked)
    scores, hours = figure.axes[:2]
    marks = too_few_marks(scores)
    assert marks["clarity"] == [5]  # asked in the sixth week, too few answers; the rest not asked
    assert marks["capability"] == [2] and marks["workload"] == [2, 6]
    assert too_few_marks(hours) == {"time_saved": [2], "upkeep": [2]}
    assert "× asked, too few answers to show" in legend(scores)
    assert "not asked" in hours.get_xlabel() and "too few answers" in hours.get_xlabel()


def test_go_lives_are_marked_with_the_rollout_name() -> None:
    figure = build_figure(WEEKS, SERIES, title=TITLE, go_lives=[("2026-W46", "Forecast copilot"),
                                                                 ("2026-W46", "Support assistant"),
                                                                 ("2025-W10", "Before the chart")])
    scores, hours = figure.axes[:2]
    for axes in (scores, hours):
        [line] = [line for line in axes.get_lines() if line.get_label() == "_go_live"]
        assert list(line.get_xdata()) == [3, 3]
    notes = [text.get_text() for text in scores.texts]
    assert notes == ["go-live: Forecast copilot, Support assistant"]


def test_every_series_says_which_direction_is_better() -> None:
    figure = build_figure(WEEKS, {**SERIES, "recognition": [3.0] * len(WEEKS), "net": [1.0] * len(WEEKS)}, title=TITLE)
    shown = [label for axes in figure.axes for label in labels(axes)]
    assert shown and all(label.count(" · ") == 1 for label in shown)
    direction = {label.split(" · ")[0]: label.split(" · ")[1] for label in shown}
    assert direction == {
        "Capability": "higher is better", "Workload": "higher is better", "Clarity": "higher is better",
        "Recognition": "higher is better", "Time saved (self-reported)": "higher is better",
        "AI upkeep": "lower is better", "Net (saved − upkeep)": "higher is better",
    }


def test_a_banks_own_scale_and_hours_questions_are_charted_beside_the_usual_ones() -> None:
    series = {**SERIES, "trust": [3.0] * len(WEEKS), "meetings": [1.0] * len(WEEKS)}
    own = {"trust": ("Trust", "scale"), "meetings": ("Meetings", "hours")}
    figure = build_figure(WEEKS, series, title=TITLE, questions=own)
    scores, hours = figure.axes[:2]
    assert "Trust · higher is better" in labels(scores)
    assert "Meetings" in labels(hours)  # hours of the bank's own activity: no direction is claimed
    with pytest.raises(ValueError, match="unknown chart series: meetings, trust"):
        build_figure(WEEKS, series, title=TITLE)
