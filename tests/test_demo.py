"""`pulse demo`: the embedded default runs the real services with no settings at all."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from freezegun import freeze_time

from bot.cli import main
from bot.demo import ORGANISATION, WEEKS, run_demo


def test_the_demo_runs_eight_weekly_rounds_for_a_synthetic_organisation(tmp_path: Path) -> None:
    out = io.StringIO()
    with freeze_time("2026-11-25 12:00"):
        overviews = run_demo(tmp_path / "demo", out=out)
    text = out.getvalue()
    people = sum(size for size, _ in ORGANISATION.values())
    assert people >= 60
    assert [o.week for o in overviews] == [f"2026-W{w}" for w in range(41, 49)]
    assert all(o.sent == people for o in overviews)  # everyone, in every time zone, once a week
    assert all(0.6 <= o.response_rate <= 0.95 for o in overviews)
    assert f"{people} people" in text and "2026-W41" in text and "2026-W48" in text
    # The go-live dip shows: confidence falls in the first weeks and recovers by the end.
    capability = [next(s.mean for s in o.scores if s.question == "capability") for o in overviews]
    assert min(capability[1:4]) < capability[0] - 0.3
    assert capability[-1] > min(capability) + 0.5
    assert "self-reported" in text and "fewer than 5 respondents" in text


def test_pulse_demo_needs_no_settings_and_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--folder", str(tmp_path / "d")])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert re.search(r"Rollout Pulse demo: \d+ people", out)
    assert len(re.findall(r"^\d{4}-W\d{2} ", out, flags=re.MULTILINE)) == WEEKS
    assert (tmp_path / "d" / "demo.sqlite3").exists()
