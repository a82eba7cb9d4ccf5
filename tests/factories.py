"""Test data: people and teams written straight to the database, as a roster import leaves them."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import Database
from bot.models import Person, Team


def team(db: Database, path: str) -> int:
    """The team at `path`, created with its ancestors when missing."""
    with db.session() as session:
        parent_id = None
        for depth, name in enumerate(path.split("/"), start=1):
            sub = "/".join(path.split("/")[:depth])
            existing = session.scalar(select(Team).where(Team.path == sub))
            if existing is None:
                existing = Team(path=sub, name=name, parent_id=parent_id)
                session.add(existing)
                session.flush()
            parent_id = existing.id
        assert parent_id is not None
        return parent_id


def person(
    db: Database,
    user_id: str,
    *,
    team_path: str = "Sales",
    tz: str = "UTC",
    level: str | None = "experienced",
    away: bool = False,
    council: bool = False,
) -> int:
    team_id = team(db, team_path)
    with db.session() as session:
        row = Person(slack_user_id=user_id, team_id=team_id, tz=tz, level=level, away=away, is_council=council, active=True)
        session.add(row)
        session.flush()
        return row.id
