"""Posting the council digest: once per ISO week, however often the job runs.

The week's row in `digest_posts` is claimed before anything is posted; a second run (or a second
clock) finds it and posts nothing. A claim left behind by a crash is taken over after a lease,
and a failed one by the next run.

The digest is a main message and its thread. The main message's place is recorded as soon as it
is posted; the thread is posted after it, and the row says "posted" only once the thread is
complete. A run that takes over an unfinished week therefore never posts the main message twice:
it uses the recorded one, or, when the answer to the post was lost before it could be recorded,
finds it in the channel. It then reads the thread and posts only the replies it lacks (each reply
names its part and entries in its metadata), so a crash midway doubles nothing and loses nothing.
A week in which no pulse went out (the app was installed since, or nobody was enrolled) has no
digest: an empty one would tell the council nothing but that the app is new.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from bot.db import Database, upsert
from bot.messenger import ChannelUnavailable, DeliveryFailed, MessageRef, Messenger
from bot.models import Delivery, DigestPost, PulseRound
from bot.reports.comment_thread import post_comment_thread
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


def _pulse_went_out(db: Database, week: str) -> bool:
    with db.session() as session:
        sent = select(Delivery.id).join(PulseRound, PulseRound.id == Delivery.round_id)
        return session.scalar(sent.where(PulseRound.week == week, Delivery.status == "sent").limit(1)) is not None


@dataclass(frozen=True)
class _Claim:
    posted: MessageRef | None  # the main message, when an earlier run posted and recorded it
    earlier: bool  # an earlier run claimed this week: it may have posted without recording it


def _claim(db: Database, week: str, at: dt.datetime) -> _Claim | None:
    with db.session() as session:
        earlier = session.scalar(select(DigestPost.id).where(DigestPost.week == week)) is not None
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
            .returning(DigestPost.channel_id, DigestPost.message_ts)
        ).first()
        if taken is None:
            return None
        channel, ts = taken
        return _Claim(MessageRef(channel, ts) if channel and ts else None, earlier)


def _finish(db: Database, week: str, **values: object) -> None:
    with db.session() as session:
        session.execute(update(DigestPost).where(DigestPost.week == week).values(**values))


def _main_message(messenger: Messenger, channel: str, claim: _Claim, digest: Digest, week: IsoWeek) -> tuple[MessageRef, bool]:
    """The week's main message, posted now unless an earlier run did; True if a thread may exist."""
    if claim.posted is not None:
        return claim.posted, True
    if claim.earlier:
        # Not before the reported week began: no run can have posted its digest earlier.
        since = dt.datetime.combine(week.monday, dt.time(), tzinfo=dt.timezone.utc) - dt.timedelta(days=1)
        found = messenger.find_digest(channel, str(week), since=since)
        if found is not None:
            return found, True
    return messenger.post_digest(channel, digest), False


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
    if not _pulse_went_out(db, str(target)):
        run.reason = "no pulse went out that week"
        return run
    settings.require("pulse_council_channel", purpose="to post the digest")
    channel = settings.pulse_council_channel
    assert channel is not None
    claim = _claim(db, str(target), at)
    if claim is None:
        run.reason = "already posted or being posted"
        # A thread of comments that an earlier run could not finish is finished now.
        post_comment_thread(db, messenger, settings.pseudonym_key, str(target), at=at, lang=settings.behaviour.language)
        return run
    digest, chart = build(target)
    try:
        ref, resume = _main_message(messenger, channel, claim, digest, target)
        if claim.posted is None:
            _finish(db, str(target), channel_id=ref.channel, message_ts=ref.ts)
        messenger.post_digest_thread(ref, digest, chart, resume=resume)
    except DeliveryFailed as failure:
        _finish(db, str(target), status="failed", error=failure.reason[:100])
        run.reason = failure.explain() if isinstance(failure, ChannelUnavailable) else failure.reason
        run.failed = True
        log.warning("digest.failed week=%s reason=%s", target, failure.reason)
        return run
    _finish(db, str(target), status="posted", posted_at=at, error=None)
    run.posted = True
    log.info("digest.posted week=%s", target)
    post_comment_thread(db, messenger, settings.pseudonym_key, str(target), at=at, lang=settings.behaviour.language)
    return run


def posted_weeks(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(DigestPost.week).where(DigestPost.status == "posted").order_by(DigestPost.week)))
