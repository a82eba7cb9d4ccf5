"""Reports shared for credit, as the people they are shared with see them.

"Show this to my manager" keeps a report by name in `credit_reports` (and only there). Its
readers are the managers of the team the author was in that week (the week's snapshot in
`week_roster`), directly or through a parent team, as for summaries (`bot.reports.access`); the
author sees what they shared and who can see it. A report not shared is never named here: it
lives only under the week's pseudonym and counts only in released figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from bot.db import Database
from bot.labour.categories import category_name
from bot.models import CreditReport, Manager, Person, Team, WeekRoster
from bot.roster.service import enrolled_person
from bot.weeks import IsoWeek, local_now, now

SHARED_WEEKS: Final = 4  # App Home: this week and the four before, as for the person's hidden work


@dataclass(frozen=True)
class SharedReport:
    week: str
    category: str
    minutes: int
    tool: str | None
    note: str | None

    @property
    def category_name(self) -> str:
        return category_name(self.category)


@dataclass(frozen=True)
class PersonCredit:
    """One person's reports shared with the reader, oldest week first."""

    user_id: str
    reports: tuple[SharedReport, ...]

    @property
    def minutes(self) -> int:
        return sum(report.minutes for report in self.reports)


@dataclass(frozen=True)
class CreditForManager:
    """What people in the manager's teams shared with them over `weeks` (oldest first); people
    with the most time first."""

    weeks: tuple[str, ...]
    teams: tuple[str, ...]
    people: tuple[PersonCredit, ...]

    @property
    def minutes(self) -> int:
        return sum(person.minutes for person in self.people)


@dataclass(frozen=True)
class SharedByMe:
    """What a person shared for credit over `weeks` (oldest first), and who can see it: the
    managers of their team (that week's team, for each report), never themselves."""

    weeks: tuple[str, ...]
    reports: tuple[SharedReport, ...]
    visible_to: tuple[str, ...]  # Slack user ids


def _ending(week: IsoWeek, count: int) -> list[str]:
    """`count` weeks ending with `week`, oldest first."""
    return [str(week.shifted(offset)) for offset in range(-count + 1, 1)]


def _within(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith(ancestor + "/")


def _managed_paths(session: Session, person_id: int) -> list[str]:
    return list(session.scalars(select(Team.path).join(Manager, Manager.team_id == Team.id).where(Manager.person_id == person_id)))


def _shared_rows(session: Session, weeks: Sequence[str], *, author: int | None = None) -> list[tuple[int, str, str, SharedReport]]:
    """(author id, author's Slack id, the author's team that week, report) for the weeks."""
    current_team = aliased(Team)
    query = (
        select(
            CreditReport.person_id, Person.slack_user_id,
            # The week's snapshot places the author; a report kept from before snapshots existed
            # falls back to the author's team now.
            func.coalesce(WeekRoster.team_path, current_team.path),
            CreditReport.week, CreditReport.category, CreditReport.minutes, CreditReport.tool, CreditReport.note,
        )
        .join(Person, Person.id == CreditReport.person_id)
        .join(current_team, current_team.id == Person.team_id)
        .outerjoin(WeekRoster, (WeekRoster.week == CreditReport.week) & (WeekRoster.person_id == CreditReport.person_id))
        .where(CreditReport.week.in_(list(weeks)))
        .order_by(CreditReport.week, CreditReport.id)
    )
    if author is not None:
        query = query.where(CreditReport.person_id == author)
    return [
        (person, user_id, team, SharedReport(week, category, minutes, tool, note))
        for person, user_id, team, week, category, minutes, tool, note in session.execute(query)
    ]


def credit_for_manager(
    db: Database, user_id: str, team: str | None, weeks: int, *, at: dt.datetime | None = None
) -> CreditForManager | None:
    """The reports shared with this manager by people in their teams (or in `team`, when they
    manage it or a parent of it) over the last `weeks` weeks, as `/pulse summary` counts them.
    None when the caller manages none of those teams: a council member sees figures, not what
    people shared with their managers."""
    at = at or now()
    window = _ending(IsoWeek.of(at.date()), weeks)
    with db.session() as session:
        caller = session.scalar(select(Person).where(Person.slack_user_id == user_id, Person.active.is_(True)))
        if caller is None:
            return None
        managed = _managed_paths(session, caller.id)
        if team is not None:
            managed = [team] if any(_within(team, path) for path in managed) else []
        if not managed:
            return None
        rows = _shared_rows(session, window)
    by_person: dict[str, list[SharedReport]] = defaultdict(list)
    for person, author, path, report in rows:
        if person != caller.id and any(_within(path, scope) for scope in managed):
            by_person[author].append(report)
    people = [PersonCredit(author, tuple(reports)) for author, reports in by_person.items()]
    people.sort(key=lambda credit: (-credit.minutes, credit.user_id))
    return CreditForManager(tuple(window), tuple(sorted(managed)), tuple(people))


def shared_by_person(db: Database, user_id: str, *, at: dt.datetime | None = None, weeks: int = SHARED_WEEKS) -> SharedByMe:
    """What the person shared this (local) week and the `weeks` before, and the managers who can
    see it. Raises NotEnrolled for someone not on the roster."""
    at = at or now()
    with db.session() as session:
        person = enrolled_person(session, user_id)
        this_week = IsoWeek.of(local_now(person.tz, at).date())
        window = _ending(this_week, weeks + 1)
        rows = _shared_rows(session, window, author=person.id)
        paths = {path for _, _, path, _ in rows} or {session.scalars(select(Team.path).where(Team.id == person.team_id)).one()}
        viewers = _managers_of(session, paths, exclude=person.id)
    return SharedByMe(tuple(window), tuple(report for *_, report in rows), viewers)


def _managers_of(session: Session, paths: Iterable[str], *, exclude: int) -> tuple[str, ...]:
    """Active managers of these teams or of a team above them, by Slack id."""
    found = session.execute(
        select(Team.path, Person.slack_user_id)
        .join(Manager, Manager.team_id == Team.id)
        .join(Person, Person.id == Manager.person_id)
        .where(Person.active.is_(True), Person.id != exclude)
    ).all()
    wanted = list(paths)
    return tuple(sorted({user for path, user in found if any(_within(team, path) for team in wanted)}))
