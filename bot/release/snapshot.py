"""The week roster: each enrolled person's team and level for a week, recorded once.

A person's figures for a week all follow this one row, whatever the roster does later in the
week: a move, a new level or a deleted team changes next week's snapshot, never this one. So a
group's size is a count of distinct people, and nobody counts in two teams at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bot.db import upsert
from bot.models import Person, Team, WeekRoster

BATCH = 1000


def snapshot_everyone(session: Session, week: str) -> None:
    """Record every active person's team and level for the week (those recorded already stay)."""
    people = session.execute(
        select(Person.id, Team.path, Person.level).join(Team, Team.id == Person.team_id).where(Person.active.is_(True))
    ).all()
    _record(session, week, people)


def snapshot_people(session: Session, week: str, person_ids: Iterable[int]) -> None:
    """Record these people for the week, unless they are recorded already (those are not even
    written again: the pulse job names everyone it queues, most of whom the round's opening
    snapshot has just recorded)."""
    ids = sorted(set(person_ids))
    recorded = exists().where(WeekRoster.week == week, WeekRoster.person_id == Person.id)
    for start in range(0, len(ids), BATCH):
        people = session.execute(
            select(Person.id, Team.path, Person.level)
            .join(Team, Team.id == Person.team_id)
            .where(Person.id.in_(ids[start : start + BATCH]), ~recorded)
        ).all()
        _record(session, week, people)


def snapshot_person(session: Session, week: str, person: Person) -> None:
    """Record one person for the week, unless they are recorded already (a late joiner, say)."""
    _record(session, week, [(person.id, person.team.path, person.level)])


def _record(session: Session, week: str, people: Iterable[tuple[int, str, str | None]]) -> None:
    rows = [{"week": week, "person_id": pid, "team_path": path, "level": level} for pid, path, level in people]
    for start in range(0, len(rows), BATCH):
        upsert(session, WeekRoster.__table__, rows[start : start + BATCH], ["week", "person_id"])
