"""Retention: raw answers, comments and notes older than `retention_days` are deleted.

Digests already posted keep their figures (they live in Slack and name nobody), and so do the
per-team figures kept for settled weeks: later digests still show those weeks' trends. A week no
report has read since it settled has its figures kept first, so no week's trend depends on
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
    ExplainerFeedback,
    ExplainerQuestion,
    HiddenWorkReport,
    PulseRound,
    Response,
)
from bot.reports.aggregates import hold_week_figures, settle_due
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

    def summary(self) -> str:
        return (
            f"retention before {self.cutoff}: deleted {self.responses} responses (with their answers and "
            f"comments), {self.hidden_work} hidden-work reports, {self.feedback} explainer ratings, "
            f"{self.questions} questions"
        )


def run_retention_job(db: Database, behaviour: Behaviour, *, at: dt.datetime | None = None) -> RetentionRun:
    at = at or now()
    cutoff = at.date() - dt.timedelta(days=behaviour.retention_days)
    # A week is past retention once all of it is: weeks strictly before the cut-off's week.
    last_kept = str(IsoWeek.of(cutoff))
    with db.session() as session:
        old_weeks = set(session.scalars(select(PulseRound.week).where(PulseRound.week < last_kept)))
        old_weeks |= set(session.scalars(select(HiddenWorkReport.week).distinct().where(HiddenWorkReport.week < last_kept)))
    settle_due(db, sorted(old_weeks), at=at)
    with db.session() as session:
        # Not while a week is being settled from the answers this deletes.
        hold_week_figures(session)
        old_rounds = select(PulseRound.id).where(PulseRound.week < last_kept)
        responses = session.execute(delete(Response).where(Response.round_id.in_(old_rounds))).rowcount
        hidden = session.execute(delete(HiddenWorkReport).where(HiddenWorkReport.week < last_kept)).rowcount
        instant = dt.datetime.combine(cutoff, dt.time(0), tzinfo=dt.timezone.utc)
        feedback = session.execute(delete(ExplainerFeedback).where(ExplainerFeedback.updated_at < instant)).rowcount
        questions = session.execute(delete(ExplainerQuestion).where(ExplainerQuestion.asked_at < instant)).rowcount
    run = RetentionRun(cutoff, int(responses or 0), int(hidden or 0), int(feedback or 0), int(questions or 0))
    log.info("retention.run cutoff=%s responses=%s hidden=%s", cutoff, run.responses, run.hidden_work)
    return run
