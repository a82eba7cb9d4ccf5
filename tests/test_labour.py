"""Hidden-labour reports in the domain: reading durations and categories, the rules, storage, totals."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.db import Database
from bot.errors import NotEnrolled
from bot.labour.categories import ALIASES, CATEGORY_NAMES, category_for
from bot.labour.durations import format_minutes, parse_duration
from bot.labour.errors import (
    DurationTooLong,
    DurationTooShort,
    InvalidReport,
    NoteTooLong,
    ToolTooLong,
    UnknownCategory,
    UnreadableDuration,
)
from bot.labour.service import hidden_work_summary, log_hidden_work, report_problems
from bot.labour.views import CategoryMinutes, WeekMinutes
from bot.labour.views import Logged
from bot.models import WORK_CATEGORIES, HiddenWorkReport
from bot.privacy import week_pseudonym
from tests import factories, stored
from tests.conftest import PSEUDONYM_KEY

KEY = PSEUDONYM_KEY.encode()
TUESDAY = "2026-11-24 10:00"  # week 2026-W48


def reports(db: Database) -> list[Logged]:
    return stored.reports(db, KEY)


def count(db: Database) -> int:
    return len(reports(db))


# ---------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("45m", 45),
        ("90m", 90),
        ("1h", 60),
        ("1h30m", 90),
        ("1h 30m", 90),
        ("1.5h", 90),
        ("1,5h", 90),
        ("2 hours", 120),
        ("30 min", 30),
        ("45 minutes", 45),
        ("1H30M", 90),
        ("1 h 30 min", 90),
        ("1h30", 90),
        ("0.25h", 15),
        ("1 hr", 60),
        ("  2h  ", 120),
    ],
)
def test_every_usual_way_of_writing_a_duration_is_read(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["soon", "h", "m", "1.5m", "-2h", "1..5h", "45m 2h", "an hour", "1h30m extra"])
def test_an_unreadable_duration_says_which_text_and_how_to_write_it(text: str) -> None:
    with pytest.raises(UnreadableDuration) as refused:
        parse_duration(text)
    assert text.strip()[:30] in str(refused.value)
    assert "1h30m" in str(refused.value)


def test_a_bare_number_asks_for_a_unit_rather_than_guessing() -> None:
    with pytest.raises(UnreadableDuration, match="Add a unit to “45”"):
        parse_duration("45")


def test_an_empty_duration_asks_how_long_it_took() -> None:
    with pytest.raises(UnreadableDuration, match="Say how long it took"):
        parse_duration("   ")


def test_a_long_unreadable_duration_is_quoted_only_in_part() -> None:
    with pytest.raises(UnreadableDuration) as refused:
        parse_duration("x" * 5000)
    assert len(str(refused.value)) < 200


@pytest.mark.parametrize(("minutes", "text"), [(0, "0 min"), (45, "45 min"), (60, "1 h"), (90, "1 h 30 min"), (720, "12 h")])
def test_minutes_are_shown_in_hours_and_minutes(minutes: int, text: str) -> None:
    assert format_minutes(minutes) == text


# ---------------------------------------------------------------- categories


@pytest.mark.parametrize(
    ("word", "key"),
    [
        ("review", "validation"),
        ("Validation & review", "validation"),
        ("validation and review", "validation"),
        ("prompting", "prompting"),
        ("prompt work", "prompting"),
        ("cleanup", "cleanup"),
        ("Data cleanup", "cleanup"),
        ("clean-up", "cleanup"),
        ("exception handling", "exceptions"),
        ("spreadsheet", "workaround"),
        ("workaround / shadow system", "workaround"),
        ("OTHER", "other"),
        ("review:", "validation"),
    ],
)
def test_forgiving_category_words_name_the_right_category(word: str, key: str) -> None:
    assert category_for(word) == key


def test_no_word_names_two_categories() -> None:
    for key, aliases in ALIASES.items():
        for alias in aliases:
            assert category_for(alias) == key, alias


def test_every_category_has_its_display_name() -> None:
    assert list(CATEGORY_NAMES) == list(WORK_CATEGORIES)
    assert CATEGORY_NAMES["workaround"] == "workaround / shadow system"


@pytest.mark.parametrize("word", ["frobnicate", "", "review the draft", "45m"])
def test_an_unknown_word_is_no_category(word: str) -> None:
    assert category_for(word) is None


# ---------------------------------------------------------------- the rules


def test_a_form_hears_about_every_problem_at_once() -> None:
    problems = report_problems(duration="soon", category=None, tool="t" * 101, note="n" * 501)
    assert [p.field for p in problems] == ["duration", "category", "tool", "note"]
    assert all(isinstance(p, InvalidReport) for p in problems)


def test_a_good_report_has_no_problems() -> None:
    assert report_problems(duration="1h30m", category="review", tool="Copilot", note="checked the draft") == []


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ({"minutes": 0}, DurationTooShort, "at least 1 minute"),
        ({"minutes": -5}, DurationTooShort, "at least 1 minute"),
        ({"minutes": 13 * 60}, DurationTooLong, "13 h is more than one report can hold (at most 12 h)"),
        ({"minutes": 30 * 60}, DurationTooLong, "30 h is more than one report can hold"),
        ({"category": "frobnicate"}, UnknownCategory, "“frobnicate” is not a kind of hidden work"),
        ({"category": ""}, UnknownCategory, "Say what kind of work it was"),
        ({"note": "x" * 10_240}, NoteTooLong, "500 characters (it has 10240)"),
        ({"tool": "t" * 101}, ToolTooLong, "100 characters (it has 101)"),
    ],
)
def test_a_bad_report_is_refused_with_its_own_message_and_nothing_is_saved(
    db: Database, values: dict[str, object], error: type[InvalidReport], message: str
) -> None:
    factories.person(db, "UANNA")
    report: dict[str, object] = {"minutes": 45, "category": "review", **values}
    with pytest.raises(error) as refused:
        log_hidden_work(db, KEY, "UANNA", **report)  # type: ignore[arg-type]
    assert message in str(refused.value)
    assert count(db) == 0


def test_the_limits_themselves_are_allowed(db: Database) -> None:
    factories.person(db, "UANNA")
    log_hidden_work(db, KEY, "UANNA", minutes=1, category="other", note="  " + "x" * 500 + "\n", tool="t" * 100)
    log_hidden_work(db, KEY, "UANNA", minutes=720, category="other")
    assert [(r.minutes, len(r.note or "")) for r in reports(db)] == [(1, 500), (720, 0)]


def test_someone_outside_the_roster_cannot_log_and_nothing_is_saved(db: Database) -> None:
    with pytest.raises(NotEnrolled):
        log_hidden_work(db, KEY, "USTRANGER", minutes=45, category="review")
    assert count(db) == 0


# ---------------------------------------------------------------- storage


def test_a_report_is_stored_under_the_pseudonym_with_its_week_and_no_team_level_or_time(db: Database) -> None:
    factories.person(db, "UANNA", team_path="Sales/EMEA", level="entry")
    with freeze_time(TUESDAY):
        logged = log_hidden_work(db, KEY, "UANNA", minutes=90, category="review", tool=" Copilot ", note=" checked it ")
    with db.session() as session:
        (raw,) = session.scalars(select(HiddenWorkReport)).all()
    assert (raw.pseudonym, raw.week) == (week_pseudonym(KEY, "2026-W48", "UANNA"), "2026-W48")
    # The week roster places the reporter for the release; the report says nothing of it, and
    # what was logged is sealed: neither the note nor the tool is in the row.
    assert {c.key for c in HiddenWorkReport.__table__.columns} == {"id", "week", "pseudonym", "sealed"}
    assert b"checked it" not in raw.sealed and b"Copilot" not in raw.sealed
    (row,) = reports(db)
    assert (row.category, row.minutes, row.tool, row.note) == ("validation", 90, "Copilot", "checked it")
    assert row.shared_with_manager is False
    assert (logged.week, logged.category_name, logged.week_minutes) == ("2026-W48", "validation & review", 90)


def test_show_to_my_manager_is_the_only_way_a_report_names_its_author(db: Database) -> None:
    person_id = factories.person(db, "UANNA")
    log_hidden_work(db, KEY, "UANNA", minutes=30, category="review")
    log_hidden_work(db, KEY, "UANNA", minutes=30, category="review", share_with_manager=True)
    assert [r.shared_with_manager for r in reports(db)] == [False, True]
    assert stored.credit_people(db) == [person_id]  # the shared one, by name, and nothing else


def test_a_report_belongs_to_the_persons_local_week(db: Database) -> None:
    factories.person(db, "ULA", tz="America/Los_Angeles")
    factories.person(db, "UAKL", tz="Pacific/Auckland")
    with freeze_time("2026-11-23 05:00"):  # Sunday evening in Los Angeles, Monday evening in Auckland
        assert log_hidden_work(db, KEY, "ULA", minutes=10, category="other").week == "2026-W47"
        assert log_hidden_work(db, KEY, "UAKL", minutes=10, category="other").week == "2026-W48"


def test_the_confirmation_carries_only_the_persons_total_this_week(db: Database) -> None:
    factories.person(db, "UANNA")
    factories.person(db, "UBEN")
    with freeze_time("2026-11-20 10:00"):  # the week before
        log_hidden_work(db, KEY, "UANNA", minutes=300, category="cleanup")
    with freeze_time(TUESDAY):
        log_hidden_work(db, KEY, "UBEN", minutes=200, category="cleanup")
        log_hidden_work(db, KEY, "UANNA", minutes=45, category="review")
        logged = log_hidden_work(db, KEY, "UANNA", minutes=30, category="prompting", share_with_manager=True)
    assert logged.week_minutes == 75


# ---------------------------------------------------------------- App Home summary


def test_the_summary_shows_this_week_by_category_and_the_four_weeks_before(db: Database) -> None:
    factories.person(db, "UANNA")
    factories.person(db, "UBEN")
    logs = [
        ("2026-10-20 10:00", 600, "other"),  # W43: five weeks back, not shown
        ("2026-10-27 10:00", 60, "cleanup"),  # W44
        ("2026-10-29 10:00", 30, "review"),  # W44
        ("2026-11-17 10:00", 120, "spreadsheet"),  # W47
        ("2026-11-23 09:00", 45, "review"),  # W48
        ("2026-11-24 09:00", 30, "review"),
        ("2026-11-24 09:30", 20, "exceptions"),
        ("2026-11-25 09:30", 15, "prompting"),
    ]
    for when, minutes, category in logs:
        with freeze_time(when):
            log_hidden_work(db, KEY, "UANNA", minutes=minutes, category=category)
    with freeze_time(TUESDAY):
        log_hidden_work(db, KEY, "UBEN", minutes=500, category="review")
    with freeze_time("2026-11-26 12:00"):
        summary = hidden_work_summary(db, KEY, "UANNA")
    assert summary.week == "2026-W48"
    assert summary.by_category == [
        CategoryMinutes("validation", 75),
        CategoryMinutes("prompting", 15),
        CategoryMinutes("exceptions", 20),
    ]
    assert summary.week_minutes == 110
    assert summary.previous_weeks == [
        WeekMinutes("2026-W47", 120),
        WeekMinutes("2026-W46", 0),
        WeekMinutes("2026-W45", 0),
        WeekMinutes("2026-W44", 90),
    ]


def test_a_summary_with_nothing_logged_is_empty_not_an_error(db: Database) -> None:
    factories.person(db, "UANNA")
    summary = hidden_work_summary(db, KEY, "UANNA", at=dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC))
    assert summary.by_category == [] and summary.week_minutes == 0
    assert [w.minutes for w in summary.previous_weeks] == [0, 0, 0, 0]


def test_the_summary_for_someone_outside_the_roster_says_they_are_not_enrolled(db: Database) -> None:
    with pytest.raises(NotEnrolled):
        hidden_work_summary(db, KEY, "USTRANGER")
