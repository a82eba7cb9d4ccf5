"""Who may read which team's summary: managers of the team or an ancestor, and the council.

Everybody else gets the same polite refusal, whether or not the team exists, so a refusal never
confirms a team's name.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.errors import PulseError
from bot.models import Manager, Person, Team

REFUSAL = (
    "Summaries are for managers of a team and for the performance council. "
    "If you think you should see this one, ask your admin."
)


class NotAllowed(PulseError):
    """The caller may not see that summary; the message reveals nothing about the team."""


@dataclass(frozen=True)
class Scope:
    """The team subtrees a summary covers; `paths` empty means the whole organisation."""

    paths: tuple[str, ...]

    @property
    def organisation(self) -> bool:
        return not self.paths


def _within(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith(ancestor + "/")


def summary_scope(db: Database, user_id: str, team: str | None) -> Scope:
    with db.session() as session:
        person = session.scalar(select(Person).where(Person.slack_user_id == user_id, Person.active.is_(True)))
        if person is None:
            raise NotAllowed(REFUSAL)
        managed = _managed_paths(session, person.id)
        if team is None:
            if managed:
                return Scope(tuple(sorted(managed)))
            if person.is_council:
                return Scope(())
            raise NotAllowed(REFUSAL)
        allowed = person.is_council or any(_within(team, path) for path in managed)
        if not allowed or session.scalar(select(Team.id).where(Team.path == team)) is None:
            raise NotAllowed(REFUSAL)
        return Scope((team,))


def _managed_paths(session: Session, person_id: int) -> list[str]:
    return list(
        session.scalars(select(Team.path).join(Manager, Manager.team_id == Team.id).where(Manager.person_id == person_id))
    )
