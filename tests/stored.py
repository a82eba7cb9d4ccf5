"""What the database holds of people's answers, opened with the key: for tests to check storage.

Every response is sealed with its week and pseudonym as context, so each row opens on its own
without knowing whose it is, just as the release opens it.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.db import Database
from bot.explainers.service import opened_rating
from bot.labour.service import opened_report
from bot.labour.views import Logged
from bot.models import CreditReport, ExplainerFeedback, HiddenWorkReport, PulseRound, Response
from bot.surveys.service import Answered, opened


def responses(db: Database, key: bytes) -> list[Answered]:
    """Every stored response, opened, in no particular order."""
    with db.session() as session:
        rows = session.execute(
            select(PulseRound.week, Response.pseudonym, Response.sealed).join(PulseRound, PulseRound.id == Response.round_id)
        ).all()
    return [opened(key, week, who, sealed) for week, who, sealed in rows]


def answers(db: Database, key: bytes) -> list[tuple[str, float]]:
    """Every stored answer (question key, value), sorted."""
    return sorted((k, v) for response in responses(db, key) for k, v in response.answers.items())


def answer_count(db: Database, key: bytes) -> int:
    """Stored answers, a comment counting as one."""
    return sum(len(r.answers) + (1 if r.comment else 0) for r in responses(db, key))


def reports(db: Database, key: bytes) -> list[Logged]:
    """Every stored hidden-work report, the anonymous ones opened: anonymous first, then shared."""
    with db.session() as session:
        anonymous = session.execute(select(HiddenWorkReport.week, HiddenWorkReport.pseudonym, HiddenWorkReport.sealed)).all()
        shared = session.scalars(select(CreditReport).order_by(CreditReport.id)).all()
    found = sorted((opened_report(key, week, who, sealed) for week, who, sealed in anonymous), key=repr)
    return found + [Logged(r.week, r.category, r.minutes, r.tool, r.note, True) for r in shared]


def credit_people(db: Database) -> list[int]:
    """Whose names the reports shared for credit carry."""
    with db.session() as session:
        return list(session.scalars(select(CreditReport.person_id).order_by(CreditReport.id)))


def ratings(db: Database, key: bytes) -> list[tuple[str, str, bool, bool]]:
    """Every stored explainer rating: (explainer, week of the first rating, helpful now, at first)."""
    with db.session() as session:
        rows = session.execute(
            select(ExplainerFeedback.explainer_key, ExplainerFeedback.pseudonym, ExplainerFeedback.first_week, ExplainerFeedback.sealed)
        ).all()
    return sorted((key_, week, *opened_rating(key, key_, who, sealed)) for key_, who, week, sealed in rows)
