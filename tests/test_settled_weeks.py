"""A week that can no longer change keeps its per-team figures, and digests read them from there.

The organisation and its answers are those of tests/test_aggregates.py (2026-W48 and W49). W48's
round closes Monday 2026-11-30 12:00 UTC; it settles a week later, 2026-12-07 12:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.db import Database
from bot.explainers.library import load_library
from bot.models import SettledWeek, TeamWeekFigures
from bot.reports.aggregates import settle_weeks, settles_at, team_weeks
from bot.reports.digest import build_digest
from bot.retention import run_retention_job
from bot.rights import forget
from bot.weeks import UTC
from tests import test_aggregates as scenario
from tests.test_aggregates import EMEA, KEY, W48, W49, every_question_every_week, row

teams, two_weeks = scenario.teams, scenario.two_weeks  # the scenario's fixtures, used here too

W48_SETTLES = dt.datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
W49_SETTLES = W48_SETTLES + dt.timedelta(weeks=1)
BEFORE = dt.datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # both weeks closed or open, neither settled
WEEKS = [str(W48), str(W49)]


def kept_weeks(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(SettledWeek.week).order_by(SettledWeek.week)))


def kept_rows(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(TeamWeekFigures)) or 0)


def test_a_week_settles_a_week_after_its_round_closes() -> None:
    assert settles_at(str(W48)) == W48_SETTLES
    # A round that stays open longer settles later; one that closed early does not settle earlier.
    assert settles_at(str(W48), W48_SETTLES) == W48_SETTLES + dt.timedelta(days=7)
    assert settles_at(str(W48), W48_SETTLES - dt.timedelta(days=10)) == W48_SETTLES


def test_a_week_that_can_still_change_is_never_kept(db: Database, two_weeks: dict[str, int]) -> None:
    live = team_weeks(db, WEEKS, at=W48_SETTLES - dt.timedelta(seconds=1))
    assert kept_weeks(db) == [] and kept_rows(db) == 0
    with pytest.raises(ValueError, match="2026-W49"):
        settle_weeks(db, WEEKS, at=W48_SETTLES)
    assert kept_weeks(db) == []
    assert team_weeks(db, WEEKS, at=W48_SETTLES) == live
    assert kept_weeks(db) == [str(W48)]


def test_a_settled_week_is_kept_once_with_the_figures_computed_live(db: Database, two_weeks: dict[str, int]) -> None:
    live = team_weeks(db, WEEKS, at=BEFORE)
    assert team_weeks(db, WEEKS, at=W49_SETTLES) == live
    assert kept_weeks(db) == WEEKS
    rows = kept_rows(db)
    assert rows == len(live)
    assert team_weeks(db, WEEKS, at=W49_SETTLES + dt.timedelta(weeks=30)) == live
    assert settle_weeks(db, WEEKS, at=W49_SETTLES) == []  # already kept: nothing written twice
    assert kept_weeks(db) == WEEKS and kept_rows(db) == rows


def test_a_settled_week_is_read_from_its_kept_figures_not_recounted(db: Database, two_weeks: dict[str, int]) -> None:
    settled = team_weeks(db, WEEKS, at=W49_SETTLES)
    with freeze_time(W49_SETTLES + dt.timedelta(days=31)):
        behaviour = every_question_every_week().model_copy(update={"retention_days": 30})
        assert run_retention_job(db, behaviour).responses == 7  # every answer of both weeks is gone
    assert team_weeks(db, WEEKS, at=W49_SETTLES + dt.timedelta(days=31)) == settled


def test_the_digest_keeps_its_trend_after_retention_deletes_the_answers(db: Database, two_weeks: dict[str, int]) -> None:
    behaviour, library = every_question_every_week(), load_library()
    with freeze_time(BEFORE):
        live = build_digest(db, behaviour, library, W48)
    with freeze_time(W48_SETTLES):
        settled = build_digest(db, behaviour, library, W48)
    with freeze_time(W48_SETTLES + dt.timedelta(days=40)):
        assert run_retention_job(db, behaviour.model_copy(update={"retention_days": 30})).responses == 7
        after_retention = build_digest(db, behaviour, library, W48)
    assert live[0].scores and live[0].scores[0].key == "capability"
    assert settled[0] == live[0] and after_retention[0] == live[0]
    assert settled[1] == live[1] and after_retention[1] == live[1]  # the same chart


def test_forget_takes_the_person_out_of_settled_weeks_too(db: Database, two_weeks: dict[str, int]) -> None:
    before = row(team_weeks(db, WEEKS, at=W49_SETTLES), W48, two_weeks[EMEA])
    assert (before.responded, before.hidden_minutes, before.hidden_reporters) == (3, {"validation": 105, "prompting": 30}, 2)
    forget(db, KEY, "UE1")
    assert kept_weeks(db) == [str(W49)]  # UE1 answered in W48 only
    after = row(team_weeks(db, WEEKS, at=W49_SETTLES), W48, two_weeks[EMEA])
    assert (after.responded, after.hidden_minutes, after.hidden_reporters) == (2, {"validation": 60}, 1)
    assert after.tallies["capability"].count == 2
    assert kept_weeks(db) == WEEKS  # kept again, without UE1
    # What is kept now is what a live count gives after the forget.
    assert team_weeks(db, WEEKS, at=W49_SETTLES) == [
        r for r in team_weeks(db, WEEKS, at=BEFORE) if r.week == str(W48)
    ] + [r for r in team_weeks(db, WEEKS, at=W49_SETTLES) if r.week == str(W49)]


def test_two_processes_settling_at_once_keep_each_week_once(
    database_url: str, db: Database, two_weeks: dict[str, int]
) -> None:
    live = team_weeks(db, WEEKS, at=BEFORE)
    processes = [Database(database_url), Database(database_url)]
    start = threading.Barrier(len(processes))
    kept: list[list[str]] = []
    errors: list[BaseException] = []

    def settle(process: Database) -> None:
        start.wait()
        try:
            kept.append(settle_weeks(process, WEEKS, at=W49_SETTLES))
        except BaseException as error:  # noqa: BLE001 — reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=settle, args=(process,)) for process in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for process in processes:
        process.dispose()
    assert errors == []
    assert sorted(week for weeks in kept for week in weeks) == WEEKS  # each week kept by one of them
    assert kept_weeks(db) == WEEKS and kept_rows(db) == len(live)
    assert team_weeks(db, WEEKS, at=W49_SETTLES) == live


def test_retention_keeps_the_figures_of_weeks_no_report_had_read(db: Database, two_weeks: dict[str, int]) -> None:
    live = team_weeks(db, WEEKS, at=BEFORE)  # read before they settled: nothing kept yet
    assert kept_weeks(db) == []
    with freeze_time(W49_SETTLES + dt.timedelta(days=40)):
        behaviour = every_question_every_week().model_copy(update={"retention_days": 30})
        assert run_retention_job(db, behaviour).responses == 7
    assert kept_weeks(db) == WEEKS
    assert team_weeks(db, WEEKS, at=W49_SETTLES + dt.timedelta(days=40)) == live
