"""Hidden-work reports: checked whole before anything is written, stored under a pseudonym.

A report names its author (`person_id`) only when they choose "show this to my manager": the
credit is the point of that choice, and the only way a report becomes attributable.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.labour.categories import category_choices, category_for
from bot.labour.durations import format_minutes, parse_duration
from bot.labour.errors import (
    DurationTooLong,
    DurationTooShort,
    InvalidReport,
    NoteTooLong,
    ToolTooLong,
    UnknownCategory,
)
from bot.labour.views import CategoryMinutes, HiddenWorkSummary, LoggedWork, WeekMinutes
from bot.models import (
    NOTE_MAX_CHARS,
    REPORT_MAX_MINUTES,
    WORK_CATEGORIES,
    HiddenWorkReport,
    Person,
)
from bot.privacy import pseudonym
from bot.release.snapshot import snapshot_person
from bot.roster.service import enrolled_person
from bot.weeks import IsoWeek, local_now, now

log = logging.getLogger(__name__)

REPORT_MIN_MINUTES = 1
TOOL_MAX_CHARS: int = HiddenWorkReport.__table__.c.tool.type.length  # type: ignore[attr-defined]
SUMMARY_WEEKS = 4
_QUOTED = 30  # how much of an unknown word to quote back


@dataclass(frozen=True)
class _Report:
    """A report that passed every rule, ready to store."""

    minutes: int
    category: str
    tool: str | None
    note: str | None


# ---------------------------------------------------------------- rules


def report_problems(
    *, duration: int | str, category: str | None, tool: str | None = None, note: str | None = None
) -> list[InvalidReport]:
    """Everything wrong with a report, at most one problem per field, in the order of the form.

    `duration` is minutes, or the text the person typed. A form shows all problems at once; a
    one-line command shows the first.
    """
    problems: list[InvalidReport] = []
    try:
        minutes = parse_duration(duration) if isinstance(duration, str) else duration
    except InvalidReport as problem:
        problems.append(problem)
    else:
        problems.extend(_duration_problems(minutes))
    if _category(category) is None:
        problems.append(_unknown_category(category))
    tool, note = _clean(tool), _clean(note)
    if tool is not None and len(tool) > TOOL_MAX_CHARS:
        problems.append(ToolTooLong(f"Keep the tool name to {TOOL_MAX_CHARS} characters (it has {len(tool)})."))
    if note is not None and len(note) > NOTE_MAX_CHARS:
        problems.append(NoteTooLong(f"Keep the note to {NOTE_MAX_CHARS} characters (it has {len(note)})."))
    return problems


def _duration_problems(minutes: int) -> list[InvalidReport]:
    if minutes < REPORT_MIN_MINUTES:
        return [DurationTooShort("Log at least 1 minute.")]
    if minutes > REPORT_MAX_MINUTES:
        limit = format_minutes(REPORT_MAX_MINUTES)
        return [
            DurationTooLong(
                f"{format_minutes(minutes)} is more than one report can hold (at most {limit}). "
                "Log longer work as one report per day."
            )
        ]
    return []


def _category(text: str | None) -> str | None:
    return category_for(text) if text else None


def _unknown_category(text: str | None) -> UnknownCategory:
    if not text or not text.strip():
        return UnknownCategory(f"Say what kind of work it was: {category_choices()}.")
    return UnknownCategory(f"“{text.strip()[:_QUOTED]}” is not a kind of hidden work I know. Use one of {category_choices()}.")


def _clean(text: str | None) -> str | None:
    """Surrounding blanks are not content; an empty field is no field."""
    text = (text or "").strip()
    return text or None


def _validated(*, minutes: int, category: str | None, tool: str | None, note: str | None) -> _Report:
    problems = report_problems(duration=minutes, category=category, tool=tool, note=note)
    if problems:
        raise problems[0]
    key = _category(category)
    assert key is not None  # report_problems refused an unknown category
    return _Report(minutes=minutes, category=key, tool=_clean(tool), note=_clean(note))


# ---------------------------------------------------------------- logging work


def _local_week(person: Person, at: dt.datetime) -> IsoWeek:
    # The person's own week: a report on Sunday evening in Los Angeles belongs to that Sunday's week.
    return IsoWeek.of(local_now(person.tz, at).date())


def own_reports(who: str, person_id: int) -> ColumnElement[bool]:
    """A person's reports: anonymous ones under their pseudonym, shared ones under their name.

    A report shared for credit carries a random pseudonym of its own, so nothing in the table
    ties the person's name to the pseudonym their anonymous reports and answers are filed under.
    """
    return or_(HiddenWorkReport.pseudonym == who, HiddenWorkReport.person_id == person_id)


def _week_minutes(session: Session, who: str, person_id: int, week: IsoWeek) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(HiddenWorkReport.minutes), 0)).where(
            own_reports(who, person_id), HiddenWorkReport.week == str(week)
        )
    )
    return int(total or 0)


def log_hidden_work(
    db: Database,
    key: bytes,
    user_id: str,
    *,
    minutes: int,
    category: str,
    tool: str | None = None,
    note: str | None = None,
    share_with_manager: bool = False,
    at: dt.datetime | None = None,
) -> LoggedWork:
    """Store one report, or nothing: every rule is checked before the first write.

    `category` may be a key, a display name or an alias ("review", "spreadsheet").
    """
    report = _validated(minutes=minutes, category=category, tool=tool, note=note)
    at = at or now()
    with db.session() as session:
        person = enrolled_person(session, user_id)
        who = pseudonym(key, user_id)
        week = _local_week(person, at)
        snapshot_person(session, str(week), person)
        row = HiddenWorkReport(
            pseudonym=secrets.token_hex(32) if share_with_manager else who,
            week=str(week),
            category=report.category,
            minutes=report.minutes,
            tool=report.tool,
            note=report.note,
            shared_with_manager=share_with_manager,
            person_id=person.id if share_with_manager else None,
        )
        session.add(row)
        session.flush()
        logged = LoggedWork(
            report_id=row.id,
            week=str(week),
            category=report.category,
            minutes=report.minutes,
            tool=report.tool,
            note=report.note,
            shared_with_manager=share_with_manager,
            week_minutes=_week_minutes(session, who, person.id, week),
        )
    # No log line here: a timestamped line per report would say who logged what, and when.
    return logged


# ---------------------------------------------------------------- App Home


def hidden_work_summary(
    db: Database, key: bytes, user_id: str, *, at: dt.datetime | None = None, weeks: int = SUMMARY_WEEKS
) -> HiddenWorkSummary:
    """The person's hidden work this (local) week by category, and the totals of the weeks before."""
    at = at or now()
    with db.session() as session:
        person = enrolled_person(session, user_id)
        who = pseudonym(key, user_id)
        week = _local_week(person, at)
        return HiddenWorkSummary(
            week=str(week),
            by_category=_by_category(session, own_reports(who, person.id), week),
            previous_weeks=_previous_weeks(session, own_reports(who, person.id), week, weeks),
        )


def _by_category(session: Session, own: ColumnElement[bool], week: IsoWeek) -> list[CategoryMinutes]:
    rows = session.execute(
        select(HiddenWorkReport.category, func.sum(HiddenWorkReport.minutes))
        .where(own, HiddenWorkReport.week == str(week))
        .group_by(HiddenWorkReport.category)
    ).all()
    minutes = {category: int(total) for category, total in rows}
    return [CategoryMinutes(category, minutes[category]) for category in WORK_CATEGORIES if category in minutes]


def _previous_weeks(session: Session, own: ColumnElement[bool], week: IsoWeek, weeks: int) -> list[WeekMinutes]:
    earlier = [str(week.shifted(-n)) for n in range(1, weeks + 1)]
    rows = session.execute(
        select(HiddenWorkReport.week, func.sum(HiddenWorkReport.minutes))
        .where(own, HiddenWorkReport.week.in_(earlier))
        .group_by(HiddenWorkReport.week)
    ).all()
    minutes = {name: int(total) for name, total in rows}
    return [WeekMinutes(name, minutes.get(name, 0)) for name in earlier]

