"""Scheduler wiring: job name → service call. `pulse jobs run NAME` calls the very same functions.

Job state lives in our tables, so an in-memory job store is enough: a late or doubled trigger
finds nothing left to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.db import Database
from bot.errors import PulseError
from bot.explainers import service as explainers
from bot.messenger import Messenger
from bot.settings import Settings
from bot.surveys import service as surveys
from bot.weeks import IsoWeek, now

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    settings: Settings
    db: Database
    messenger: Messenger
    # Raises (one line) when the app cannot act in Slack yet: OAuth mode before an install.
    ready: Callable[[], object] | None = None


class JobResult(Protocol):
    @property
    def ok(self) -> bool:
        """False when the job failed at what was due: nothing posted, or DMs that failed for good."""
        ...

    def summary(self) -> str: ...


Job = Callable[[JobContext, bool, IsoWeek | None], JobResult]


def pulse_job(context: JobContext, force: bool, week: IsoWeek | None) -> JobResult:
    return surveys.run_pulse_job(context.db, context.messenger, context.settings.behaviour, force=force, week=week)


def reminders_job(context: JobContext, force: bool, week: IsoWeek | None) -> JobResult:
    return surveys.run_reminder_job(
        context.db, context.messenger, context.settings.behaviour, context.settings.pseudonym_key, force=force, week=week
    )


def explainers_job(context: JobContext, force: bool, week: IsoWeek | None) -> JobResult:
    settings = context.settings
    return explainers.run_explainer_job(
        context.db, context.messenger, settings.behaviour, settings.explainers, force=force, week=week
    )


def digest_job(context: JobContext, force: bool, week: IsoWeek | None) -> JobResult:
    from bot.reports.digest import build_digest
    from bot.reports.posting import post_digest

    settings = context.settings

    def build(reported: IsoWeek):  # type: ignore[no-untyped-def]
        return build_digest(context.db, settings.behaviour, settings.explainers, reported, settings.pseudonym_key)

    return post_digest(context.db, context.messenger, settings, build, force=force, week=week)


def questions_job(context: JobContext, force: bool, week: IsoWeek | None) -> JobResult:
    settings = context.settings
    return explainers.run_question_batch(
        context.db, context.messenger, settings.pulse_council_channel, settings.explainers, settings.behaviour, force=force
    )


def roster_job(context: JobContext, force: bool, week: IsoWeek | None) -> JobResult:
    from bot.roster.daily import run_roster_job
    from bot.slack.installations import slack_directory
    from bot.slack.usergroups import user_groups_of

    settings = context.settings
    settings.require("slack_bot_token", purpose="to sync the roster with Slack")
    directory = slack_directory(settings, context.db.engine)
    return run_roster_job(context.db, directory, user_groups_of(directory), settings.behaviour, force=force)


def retention_job(context: JobContext, force: bool, week: IsoWeek | None) -> JobResult:
    from bot.retention import run_retention_job

    return run_retention_job(context.db, context.settings.behaviour, context.settings.pseudonym_key)


JOBS: dict[str, Job] = {
    "pulse": pulse_job,
    "reminders": reminders_job,
    "explainers": explainers_job,
    "digest": digest_job,
    "questions": questions_job,
    "retention": retention_job,
    "roster": roster_job,
}


# Jobs that do not talk to Slack, so run whether or not the app is installed.
OFFLINE_JOBS = frozenset({"retention"})


def run_job(name: str, context: JobContext, *, force: bool = False, week: IsoWeek | None = None) -> JobResult:
    if context.ready is not None and name not in OFFLINE_JOBS:
        context.ready()  # before anything is claimed, so nothing waits on a send that cannot happen
    return JOBS[name](context, force, week)


def schedule_jobs(scheduler: BaseScheduler, context: JobContext) -> None:
    """Every job runs on a short tick and once at start, so downtime is caught up at once."""
    minutes = context.settings.behaviour.schedule.tick_minutes
    for name in JOBS:
        scheduler.add_job(
            _logged(name, context),
            IntervalTrigger(minutes=minutes),
            id=name,
            name=name,
            next_run_time=now(),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=minutes * 60,
            replace_existing=True,
        )


def _logged(name: str, context: JobContext) -> Callable[[], None]:
    def run() -> None:
        try:
            result = run_job(name, context)
        except PulseError as error:
            # A setting missing or Slack refusing: one line the operator can act on, no traceback.
            log.error("job.failed job=%s reason=%s", name, str(error).splitlines()[0])
            return
        except Exception:
            log.exception("job.failed job=%s", name)
            return
        if result.ok:
            log.info("job.done job=%s result=%s", name, result.summary())
        else:
            log.warning("job.failed job=%s result=%s", name, result.summary())

    return run
