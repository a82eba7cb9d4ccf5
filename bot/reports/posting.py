"""Posting the council digest: once per ISO week, however often the job runs.

The week's row in `digest_posts` is claimed before anything is posted; a second run (or a second
clock) finds it and posts nothing. A claim left behind by a crash is taken over after a lease.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from bot.db import Database, upsert
from bot.messenger import ChannelUnavailable, DeliveryFailed, Messenger
from bot.models import DigestPost
from bot.reports.digest_model import Digest
from bot.settings import Settings
from bot.weeks import IsoWeek, local_instant, local_now, now

log = logging.getLogger(__name__)

CLAIM_LEASE = dt.timedelta(minutes=15)


@dataclass
class DigestRun:
    week: str | None = None
    posted: bool = False
    reason: str = ""
    failed: bool = False  # it was due and Slack refused it, as against not due or posted already

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        if self.posted:
            return f"digest {self.week}: posted"
        if self.failed:
            return f"digest {self.week}: not posted: {self.reason}"
        return f"digest {self.week or '-'}: not posted ({self.reason})"


def reported_week(settings: Settings, at: dt.datetime, *, force: bool) -> IsoWeek | None:
    """The week the digest due now reports on: the one that ended before this week's digest day.

    None while this week's digest time has not come yet in the council's time zone.
    """
    schedule = settings.behaviour.schedule
    local = local_now(schedule.digest_timezone, at)
    this_week = IsoWeek.of(local.date())
    due = local_instant(schedule.digest_timezone, this_week.day(schedule.digest_day), schedule.digest_time)
    if local < due and not force:
        return None
    return this_week.shifted(-1)


def _claim(db: Database, week: str, at: dt.datetime) -> bool:
    with db.session() as session:
        upsert(session, DigestPost.__table__, [{"week": week, "status": "posting", "claimed_at": at}], ["week"])
        taken = session.execute(
            update(DigestPost)
            .where(
                DigestPost.week == week,
                or_(
                    DigestPost.claimed_at == at,
                    DigestPost.status == "failed",
                    (DigestPost.status == "posting") & (DigestPost.claimed_at < at - CLAIM_LEASE),
                ),
                DigestPost.status != "posted",
            )
            .values(status="posting", claimed_at=at)
            .returning(DigestPost.id)
        ).first()
        return taken is not None


def _finish(db: Database, week: str, **values: object) -> None:
    with db.session() as session:
        session.execute(update(DigestPost).where(DigestPost.week == week).values(**values))


def post_digest(
    db: Database,
    messenger: Messenger,
    settings: Settings,
    build: Callable[[IsoWeek], tuple[Digest, bytes | None]],
    *,
    at: dt.datetime | None = None,
    force: bool = False,
    week: IsoWeek | None = None,
) -> DigestRun:
    at = at or now()
    target = week or reported_week(settings, at, force=force)
    if target is None:
        return DigestRun(reason="not due yet this week")
    run = DigestRun(week=str(target))
    settings.require("pulse_council_channel", purpose="to post the digest")
    channel = settings.pulse_council_channel
    assert channel is not None
    if not _claim(db, run.week or "", at):
        run.reason = "already posted or being posted"
        return run
    digest, chart = build(target)
    try:
        ref = messenger.post_digest(channel, digest, chart)
    except DeliveryFailed as failure:
        _finish(db, str(target), status="failed", error=failure.reason[:100])
        run.reason = failure.explain() if isinstance(failure, ChannelUnavailable) else failure.reason
        run.failed = True
        log.warning("digest.failed week=%s reason=%s", target, failure.reason)
        return run
    _finish(db, str(target), status="posted", channel_id=ref.channel, message_ts=ref.ts, posted_at=at)
    run.posted = True
    log.info("digest.posted week=%s", target)
    return run


def posted_weeks(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(DigestPost.week).where(DigestPost.status == "posted").order_by(DigestPost.week)))
