"""Retention: raw answers, comments and notes older than `retention_days` are deleted.

Released figures stay (they name nobody and are never recounted), so later digests still show
those weeks' trends, and so do released comments: they are part of the week's release, which
never changes, and nothing in them leads to a person. A week not yet released is released first, so no week's trend depends on
whether a digest happened to run. The job is idempotent: it deletes what is past the cut-off, and
a second run finds nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import delete, select

from bot.db import Database
from bot.models import (
    CreditReport,
    ExplainerFeedback,
    ExplainerQuestion,
    HiddenWorkReport,
    PulseRound,
    Response,
)
from bot.release.service import release_due
from bot.settings import Behaviour
from bot.weeks import IsoWeek, now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionRun:
    cutoff: dt.date
    responses: int
    hidden_work: int
    feedback: int
    questions: int

    @property
    def ok(self) -> bool:
        return True

    def summary(self) -> str:
        return (
            f"retention before {self.cutoff}: deleted {self.responses} responses (with their answers and "
            f"comments), {self.hidden_work} hidden-work reports, {self.feedback} explainer ratings, "
            f"{self.questions} questions"
        )


def run_retention_job(db: Database, behaviour: Behaviour, key: bytes, *, at: dt.datetime | None = None) -> RetentionRun:
    at = at or now()
    cutoff = at.date() - dt.timedelta(days=behaviour.retention_days)
    # A week is past retention once all of it is: weeks strictly before the cut-off's week.
    last_kept = str(IsoWeek.of(cutoff))
    # Aggregates stay: every week is released before any of its answers go.
    release_due(db, key, behaviour.min_group_size, through=str(IsoWeek.parse(last_kept).shifted(-1)), at=at)
    with db.session() as session:
        old_rounds = select(PulseRound.id).where(PulseRound.week < last_kept)
        responses = session.execute(delete(Response).where(Response.round_id.in_(old_rounds))).rowcount
        hidden = session.execute(delete(HiddenWorkReport).where(HiddenWorkReport.week < last_kept)).rowcount
        hidden += session.execute(delete(CreditReport).where(CreditReport.week < last_kept)).rowcount
        feedback = session.execute(delete(ExplainerFeedback).where(ExplainerFeedback.first_week < last_kept)).rowcount
        questions = session.execute(delete(ExplainerQuestion).where(ExplainerQuestion.week < last_kept)).rowcount
    run = RetentionRun(cutoff, int(responses or 0), int(hidden or 0), int(feedback or 0), int(questions or 0))
    log.info("retention.run cutoff=%s responses=%s hidden=%s", cutoff, run.responses, run.hidden_work)
    return run
