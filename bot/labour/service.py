"""Hidden-work reports: checked whole before anything is written, stored under a pseudonym.

A report names its author (`person_id`) only when they choose "show this to my manager": the
credit is the point of that choice, and the only way a report becomes attributable.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.i18n import N_, Localized
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
from bot.labour.views import CategoryMinutes, HiddenWorkSummary, Logged, LoggedWork, WeekMinutes
from bot.models import (
    NOTE_MAX_CHARS,
    REPORT_MAX_MINUTES,
    WORK_CATEGORIES,
    CreditReport,
    HiddenWorkReport,
    Person,
)
from bot.keys import require_key
from bot.privacy import random_id, seal, unseal, week_pseudonym
from bot.release.snapshot import snapshot_person
from bot.roster.service import enrolled_person
from bot.weeks import IsoWeek, local_now, now

log = logging.getLogger(__name__)

REPORT_MIN_MINUTES = 1
TOOL_MAX_CHARS: int = CreditReport.__table__.c.tool.type.length  # type: ignore[attr-defined]
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
        problems.append(
            ToolTooLong(N_("Keep the tool name to {most} characters (it has {count})."), most=TOOL_MAX_CHARS, count=len(tool))
        )
    if note is not None and len(note) > NOTE_MAX_CHARS:
        problems.append(
            NoteTooLong(N_("Keep the note to {most} characters (it has {count})."), most=NOTE_MAX_CHARS, count=len(note))
        )
    return problems


def _duration_problems(minutes: int) -> list[InvalidReport]:
    if minutes < REPORT_MIN_MINUTES:
        return [DurationTooShort(N_("Log at least 1 minute."))]
    if minutes > REPORT_MAX_MINUTES:
        return [
            DurationTooLong(
                N_("{duration} is more than one report can hold (at most {limit}). Log longer work as one report per day."),
                duration=Localized(lambda t: format_minutes(minutes, t)),
                limit=Localized(lambda t: format_minutes(REPORT_MAX_MINUTES, t)),
            )
        ]
    return []


def _category(text: str | None) -> str | None:
    return category_for(text) if text else None


def _unknown_category(text: str | None) -> UnknownCategory:
    if not text or not text.strip():
        return UnknownCategory(N_("Say what kind of work it was: {categories}."), categories=Localized(category_choices))
    return UnknownCategory(
        N_("“{word}” is not a kind of hidden work I know. Use one of {categories}."),
        word=text.strip()[:_QUOTED],
        categories=Localized(category_choices),
    )


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


def _context(week: str, who: str) -> str:
    return f"hidden_work_reports:{week}:{who}"


def opened_report(key: bytes, week: str, who: str, sealed: bytes) -> Logged:
    value = unseal(key, sealed, context=_context(week, who))
    return Logged(week, value["category"], int(value["minutes"]), value["tool"], value["note"], False)


def own_reports(session: Session, key: bytes, user_id: str, person_id: int, weeks: Iterable[str]) -> list[Logged]:
    """A person's reports of these weeks: the anonymous ones, found through each week's pseudonym,
    and the ones they shared for credit, found by name. Shared first, then anonymous, by week."""
    weeks = sorted(set(weeks))
    shared = session.execute(
        select(CreditReport.week, CreditReport.category, CreditReport.minutes, CreditReport.tool, CreditReport.note)
        .where(CreditReport.person_id == person_id, CreditReport.week.in_(weeks))
        .order_by(CreditReport.week, CreditReport.id)
    ).all()
    found = [Logged(w, c, m, t, n, True) for w, c, m, t, n in shared]
    whose = {week_pseudonym(key, week, user_id): week for week in weeks}
    if whose:
        rows = session.execute(
            select(HiddenWorkReport.week, HiddenWorkReport.pseudonym, HiddenWorkReport.sealed).where(
                HiddenWorkReport.week.in_(weeks), HiddenWorkReport.pseudonym.in_(list(whose))
            )
        ).all()
        found += [opened_report(key, week, who, sealed) for week, who, sealed in rows if whose.get(who) == week]
    return sorted(found, key=lambda report: (report.week, not report.shared_with_manager))


def report_weeks(session: Session) -> list[str]:
    """Every week that holds any report: where a person's own may be (their pseudonym differs by week)."""
    weeks = set(session.scalars(select(HiddenWorkReport.week).distinct()))
    weeks |= set(session.scalars(select(CreditReport.week).distinct()))
    return sorted(weeks)


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

    `category` may be a key, a display name or an alias ("review", "spreadsheet"). A report shared
    for credit is kept by name only; any other is sealed under the week's pseudonym.
    """
    report = _validated(minutes=minutes, category=category, tool=tool, note=note)
    at = at or now()
    with db.session() as session:
        person = enrolled_person(session, user_id)
        week = str(_local_week(person, at))
        require_key(session, key)
        snapshot_person(session, week, person)
        if share_with_manager:
            session.add(CreditReport(person_id=person.id, week=week, category=report.category, minutes=report.minutes,
                                     tool=report.tool, note=report.note))
        else:
            who = week_pseudonym(key, week, user_id)
            payload = {"category": report.category, "minutes": report.minutes, "tool": report.tool, "note": report.note}
            session.add(HiddenWorkReport(id=random_id(), week=week, pseudonym=who, sealed=seal(key, payload, context=_context(week, who))))
        session.flush()
        logged = LoggedWork(
            week=week,
            category=report.category,
            minutes=report.minutes,
            tool=report.tool,
            note=report.note,
            shared_with_manager=share_with_manager,
            week_minutes=sum(r.minutes for r in own_reports(session, key, user_id, person.id, [week])),
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
        week = _local_week(person, at)
        earlier = [str(week.shifted(-n)) for n in range(1, weeks + 1)]
        reports = own_reports(session, key, user_id, person.id, [str(week), *earlier])
    by_category: dict[str, int] = defaultdict(int)
    by_week: dict[str, int] = defaultdict(int)
    for report in reports:
        by_week[report.week] += report.minutes
        if report.week == str(week):
            by_category[report.category] += report.minutes
    return HiddenWorkSummary(
        week=str(week),
        by_category=[CategoryMinutes(c, by_category[c]) for c in WORK_CATEGORIES if c in by_category],
        previous_weeks=[WeekMinutes(name, by_week.get(name, 0)) for name in earlier],
    )
