"""Council decisions per rollout: continue, pause, review next week. Who and when are kept."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.db import Database
from bot.errors import Gone, PulseError
from bot.models import Person, Rollout, RolloutDecision
from bot.reports.digest_model import DECISIONS, Decision
from bot.weeks import IsoWeek, now


class NotCouncil(PulseError):
    """Only council members decide on a rollout."""


class UnknownRollout(Gone):
    """The rollout behind a decision button is gone."""


def record_decision(
    db: Database, user_id: str, rollout_id: int, week: str, decision: str, *, at: dt.datetime | None = None
) -> tuple[str, Decision]:
    """Store a council member's decision; returns the rollout's name and the decision."""
    at = at or now()
    if decision not in DECISIONS:
        raise PulseError("That decision button is not one we know.")
    IsoWeek.parse(week)
    with db.session() as session:
        member = session.scalar(select(Person).where(Person.slack_user_id == user_id, Person.active.is_(True)))
        if member is None or not member.is_council:
            raise NotCouncil("Only members of the performance council can decide on a rollout.")
        rollout = session.get(Rollout, rollout_id)
        if rollout is None:
            raise UnknownRollout("That rollout no longer exists.")
        session.add(RolloutDecision(rollout_id=rollout_id, week=week, decision=decision, decided_by=user_id, decided_at=at))
        return rollout.name, Decision(decision, user_id, at)


def latest_decisions(db: Database) -> dict[int, Decision]:
    """The most recent decision per rollout, for the next digest."""
    with db.session() as session:
        rows = session.scalars(select(RolloutDecision).order_by(RolloutDecision.rollout_id, RolloutDecision.decided_at, RolloutDecision.id))
        return {row.rollout_id: Decision(row.decision, row.decided_by, row.decided_at) for row in rows}
