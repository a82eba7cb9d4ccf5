"""`pulse demo`: the embedded default runs the real services with no settings at all."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from freezegun import freeze_time

from bot.cli import main
from bot.demo import ORGANISATION, WEEKS


def test_pulse_demo_runs_a_synthetic_organisation_and_shows_the_council_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with freeze_time("2026-11-25 12:00"), pytest.raises(SystemExit) as exit_info:
        main(["demo", "--folder", str(tmp_path / "d")])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    people = sum(size for size, _ in ORGANISATION.values())
    assert people >= 60 and len(ORGANISATION) >= 6
    assert f"{people} people in {len(ORGANISATION)} teams" in out

    rows = re.findall(r"^(\d{4}-W\d{2}) +(\d+) +(\d+) +(\d+)% +([\d.]+) ", out, flags=re.MULTILINE)
    # The weeks up to the one that just ended: the week still open has no figures yet.
    assert [week for week, *_ in rows] == [f"2026-W{w}" for w in range(48 - WEEKS, 48)]
    assert all(int(sent) == people for _, sent, *_ in rows)  # everyone, every time zone, once a week
    assert all(60 <= int(rate) <= 95 for *_, rate, _ in rows)
    capability = [float(value) for *_, value in rows]
    # The 90-day dip: confidence falls after go-live and recovers.
    assert min(capability[1:7]) < capability[0] - 0.3 and capability[-1] > min(capability) + 0.4

    digest = out[out.index("council digest for 2026-W47") :]
    assert "Capability:" in digest and "self-reported" in digest
    assert "Legal" not in digest  # the team of three is never shown
    assert "Other teams:" in digest
    assert "Forecast copilot" in digest and "Support assistant" in digest and "competent after" in digest
    assert "Hidden AI work logged" in digest and "Explainers (reach · helpful)" in digest
    chart = tmp_path / "d" / "pulse-trends.png"
    assert f"trend chart is {chart}" in out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "d" / "demo.sqlite3").exists()


def test_a_second_demo_in_the_same_folder_says_it_replaces_the_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "demo.sqlite3").write_bytes(b"an earlier demo")
    with freeze_time("2026-11-25 12:00"), pytest.raises(SystemExit) as exit_info:
        main(["demo", "--folder", str(folder)])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Replacing the earlier demo's demo.sqlite3 in {folder}.")
    assert (folder / "demo.sqlite3").read_bytes()[:16] == b"SQLite format 3\x00"
