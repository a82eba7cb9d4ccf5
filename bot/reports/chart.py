"""The council digest's trend chart (a PNG); the text sparklines are in bot.reports.text.

The chart is drawn on matplotlib's Agg canvas directly, never through pyplot: servers have no
display, and pyplot's global figure registry is not safe in the scheduler's threads.

Weeks without a figure arrive as None. They are drawn as gaps, never joined across: a line
through a suppressed week would show a figure nobody was allowed to see. The chart says what a
gap means: a week whose question was asked but had too few answers to show is marked × on the
panel's floor; a gap without a mark was not asked that week (rotating questions, or no pulse).
Go-lives are dashed vertical lines, and each series' label says which direction is better.

numpy and matplotlib are imported only to draw: a process that never draws a chart (the fan-out
jobs, a web worker) does not spend a third of a second starting them.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# 1–5 scores, drawn on the upper panel in this order when present.
SCORE_LABELS: dict[str, str] = {
    "capability": "Capability",
    "workload": "Workload",
    "clarity": "Clarity",
    "recognition": "Recognition",
}
# Hours per person per week, on the lower panel. Time saved is self-reported and people misjudge
# it, so it is never drawn without upkeep beside it, and its label says so.
HOUR_LABELS: dict[str, str] = {
    "time_saved": "Time saved (self-reported)",
    "upkeep": "AI upkeep",
    "net": "Net (saved − upkeep)",
}
# Optional share (0..1) of people reworking AI output often or always, on the lower panel's right axis.
REWORK_LABEL = "Rework often/always (right axis)"
KNOWN_SERIES = frozenset(SCORE_LABELS) | frozenset(HOUR_LABELS) | {"rework"}

SIZE_PX = (1200, 700)  # about what Slack shows in a channel preview
DPI = 100

_COLOURS = {
    "capability": "#1b6ca8",
    "workload": "#d1495b",
    "clarity": "#2e8b57",
    "recognition": "#8e6c8a",
    "time_saved": "#e08e0b",
    "upkeep": "#5c5c5c",
    "net": "#222222",
    "rework": "#a23b72",
}
_STYLES = {"net": "--", "rework": ":"}
# Which way is good news, shown in each series' label.
LOWER_IS_BETTER = frozenset({"upkeep", "rework"})
TOO_FEW = "× asked, too few answers to show"

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def as_gapped(values: Sequence[float | None]) -> np.ndarray:
    """Values as floats with NaN where a week has no figure, so matplotlib breaks the line there."""
    import numpy as np

    return np.array([math.nan if v is None else float(v) for v in values], dtype=float)


def trend_chart(
    weeks: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    asked: Mapping[str, Sequence[bool]] | None = None,
    go_lives: Sequence[tuple[str, str]] = (),
    questions: Mapping[str, tuple[str, str]] | None = None,
) -> bytes:
    """A PNG of the last weeks' trends: scores (1–5) above, hours per person below.

    `weeks` labels the x axis, oldest first; each series has one value per week, None where
    there is no figure. Keys are those of SCORE_LABELS and HOUR_LABELS, plus "rework" (a share,
    0..1). `asked` says, per series and week, whether the question was asked (a None in an asked
    week had too few answers); without it every gap is read as too few answers. `go_lives` are
    (week, rollout name) pairs, drawn where the week is in the chart. `questions` adds series of
    the bank's own questions: key → (label, "scale" on the scores panel or "hours" below).
    """
    figure = build_figure(weeks, series, title=title, asked=asked, go_lives=go_lives, questions=questions)
    buffer = io.BytesIO()
    # No "Software" entry: the bytes depend on the data, not on the matplotlib version installed.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def build_figure(
    weeks: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    asked: Mapping[str, Sequence[bool]] | None = None,
    go_lives: Sequence[tuple[str, str]] = (),
    questions: Mapping[str, tuple[str, str]] | None = None,
) -> Figure:
    """The chart as a matplotlib Figure on an Agg canvas (trend_chart renders it)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    extra = {key: spec for key, spec in (questions or {}).items() if key not in KNOWN_SERIES}
    _check(weeks, series, extra)
    score_labels = {**SCORE_LABELS, **{k: label for k, (label, kind) in extra.items() if kind == "scale"}}
    hour_labels = {**{k: label for k, (label, kind) in extra.items() if kind == "hours"}, **HOUR_LABELS}
    asked = {key: asked[key] if asked is not None and key in asked else [True] * len(weeks) for key in series}
    if any(len(flags) != len(weeks) for flags in asked.values()):
        raise ValueError(f"asked must have one flag per week ({len(weeks)})")
    figure = Figure(figsize=(SIZE_PX[0] / DPI, SIZE_PX[1] / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    scores_axes, hours_axes = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    figure.suptitle(title, fontsize=16, fontweight="bold")
    x = np.arange(len(weeks))

    for key, label in score_labels.items():
        if key in series:
            _line(scores_axes, x, key, label, series[key], asked[key], frozenset(score_labels))
    scores_axes.set_ylim(0.8, 5.2)
    scores_axes.set_yticks([1, 2, 3, 4, 5])
    scores_axes.set_ylabel("Mean score (1–5)", fontsize=12)
    scores_axes.set_title("Scores", loc="left", fontsize=13)

    hour_keys = [key for key in hour_labels if key in series]
    for key in hour_keys:
        _line(hours_axes, x, key, hour_labels[key], series[key], asked[key])
    hours_axes.set_ylim(*_hour_limits([series[key] for key in hour_keys]))
    hours_axes.yaxis.set_major_locator(MaxNLocator(nbins=5))
    hours_axes.set_ylabel("Hours per person", fontsize=12)
    hours_axes.set_title("AI time per person per week — time saved is self-reported", loc="left", fontsize=13)
    handles, labels = hours_axes.get_legend_handles_labels()

    if "rework" in series:
        share_axes = hours_axes.twinx()
        _line(share_axes, x, "rework", REWORK_LABEL, series["rework"], asked["rework"])
        share_axes.set_ylim(0, 1)
        share_axes.yaxis.set_major_formatter(PercentFormatter(xmax=1))
        share_axes.tick_params(labelsize=11)
        more_handles, more_labels = share_axes.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels

    for axes in (scores_axes, hours_axes):
        axes.grid(axis="y", alpha=0.3)
        axes.tick_params(labelsize=11)
        axes.set_xlim(-0.5, max(len(weeks) - 0.5, 0.5))
        axes.spines[["top"]].set_visible(False)
    for axes in (scores_axes, hours_axes):
        _mark_too_few(axes, x, {key: (series[key], asked[key]) for key in series
                                if (key in score_labels) == (axes is scores_axes) and key != "rework"})
    _mark_go_lives(scores_axes, hours_axes, weeks, go_lives)
    if scores_axes.get_legend_handles_labels()[0]:
        scores_axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=11, frameon=False)
    if handles:
        hours_axes.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.08, 1), fontsize=11, frameon=False)
    hours_axes.axhline(0, color="#999999", linewidth=0.8)
    hours_axes.set_xticks(x, week_labels(weeks))
    hours_axes.set_xlabel(
        "Week\n× on the floor: asked, too few answers to show · a gap without ×: not asked · dashed line: go-live",
        fontsize=11, color="#555555",
    )
    return figure


def week_labels(weeks: Sequence[str]) -> list[str]:
    """Short tick labels: "2026-W37" becomes "W37", with the year under the first week of each year shown."""
    labels, last_year = [], None
    for week in weeks:
        match = _ISO_WEEK.match(week)
        if match is None:
            labels.append(week)
            continue
        year, number = match.groups()
        labels.append(f"W{number}" if year == last_year else f"W{number}\n{year}")
        last_year = year
    return labels


def _check(weeks: Sequence[str], series: Mapping[str, Sequence[float | None]], extra: Mapping[str, tuple[str, str]]) -> None:
    unknown = sorted(set(series) - KNOWN_SERIES - set(extra))
    if unknown:
        raise ValueError(f"unknown chart series: {', '.join(unknown)}")
    wrong = sorted(key for key, values in series.items() if len(values) != len(weeks))
    if wrong:
        raise ValueError(f"series {', '.join(wrong)} must have one value per week ({len(weeks)})")
    if "time_saved" in series and "upkeep" not in series:
        raise ValueError("time saved is self-reported: it is charted only beside upkeep")


def _line(
    axes: Axes, x: np.ndarray, key: str, label: str, values: Sequence[float | None], asked: Sequence[bool],
    scales: frozenset[str] = frozenset(),
) -> None:
    import numpy as np

    y = as_gapped(values)
    # The bank's own questions: a scale reads higher-is-better (its top is favourable); hours of
    # an unknown activity have no better direction to state.
    if key in KNOWN_SERIES or key in scales:
        label += " · lower is better" if key in LOWER_IS_BETTER else " · higher is better"
    if np.isnan(y).all():
        label += " (not shown: too few answers)" if any(asked) else " (not asked in these weeks)"
    # Markers keep a week standing alone between two gaps visible; NaN breaks the line.
    axes.plot(
        x, y, label=label, color=_colour(key), linestyle=_STYLES.get(key, "-"),
        linewidth=2.5, marker="o", markersize=6,
    )


_MORE_COLOURS = ("#17becf", "#bcbd22", "#7f7f7f", "#e377c2", "#8c564b", "#9467bd")


def _colour(key: str) -> str:
    """A known series' own colour; a bank's own question one of a few more, the same every week."""
    known = _COLOURS.get(key)
    return known if known is not None else _MORE_COLOURS[sum(map(ord, key)) % len(_MORE_COLOURS)]


def _mark_too_few(axes: Axes, x: np.ndarray, shown: Mapping[str, tuple[Sequence[float | None], Sequence[bool]]]) -> None:
    """An × on the panel's floor, in the series' colour, for each week asked without a figure."""
    floor = axes.get_ylim()[0]
    drawn = False
    for key, (values, asked) in shown.items():
        weeks = [i for i, (value, was_asked) in enumerate(zip(values, asked, strict=True)) if value is None and was_asked]
        if weeks:
            axes.plot(x[weeks], [floor] * len(weeks), linestyle="none", marker="x", markersize=9,
                      markeredgewidth=2, color=_colour(key), clip_on=False, label="_too_few_" + key)
            drawn = True
    if drawn:
        axes.plot([], [], linestyle="none", marker="x", color="#555555", label=TOO_FEW)


def _mark_go_lives(scores: Axes, hours: Axes, weeks: Sequence[str], go_lives: Sequence[tuple[str, str]]) -> None:
    at: dict[int, list[str]] = {}
    for week, name in go_lives:
        if week in weeks:
            at.setdefault(list(weeks).index(week), []).append(name)
    for index, names in sorted(at.items()):
        for axes in (scores, hours):
            axes.axvline(index, color="#777777", linestyle="--", linewidth=1.2, label="_go_live")
        label = ", ".join(names)
        if len(label) > 60:  # many rollouts live the same week: their names are in the digest
            label = f"{len(names)} rollouts"
        scores.annotate(
            "go-live: " + label, xy=(index, 1.0), xytext=(4, 0), textcoords="offset points",
            fontsize=10, color="#444444", va="bottom", ha="left", rotation=90,
        )


def _hour_limits(all_values: list[Sequence[float | None]]) -> tuple[float, float]:
    found = [float(v) for values in all_values for v in values if v is not None and not math.isnan(v)]
    low = min([0.0, *found])
    high = max([1.0, *found])
    pad = (high - low) * 0.1
    return (low - pad if low < 0 else 0.0), high + pad
