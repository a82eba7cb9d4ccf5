"""The week's released comments, posted once in the council digest's thread.

Only after the digest itself is out (its row in `digest_posts` says where), and only for a
released week with comments: a week without any posts nothing. The week's row in
`comment_threads` is claimed first, as the digest's is, and counts the messages posted, so a run
after a crash or a failed call posts the rest and nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from bot.db import Database, upsert
from bot.messenger import DeliveryFailed, Messenger
from bot.models import CommentThread, DigestPost, Release
from bot.release.comments import week_comments
from bot.weeks import now

log = logging.getLogger(__name__)

CLAIM_LEASE = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class CommentRun:
    week: str
    comments: int = 0  # released for the week
    posted: bool = False  # this run finished the thread
    reason: str = ""


def post_comment_thread(
    db: Database, messenger: Messenger, key: bytes, week: str, *, at: dt.datetime | None = None, lang: str = "en"
) -> CommentRun:
    """Post the week's released comments in its digest's thread, if that is still to do; its
    headings in `lang`, the council's language."""
    at = at or now()
    with db.session() as session:
        digest = session.execute(
            select(DigestPost.channel_id, DigestPost.message_ts).where(DigestPost.week == week, DigestPost.status == "posted")
        ).first()
        if digest is None or digest.channel_id is None or digest.message_ts is None:
            return CommentRun(week, reason="the digest is not posted")
        if session.get(Release, week) is None:
            return CommentRun(week, reason="the week is not released")
        done = session.scalar(select(CommentThread.status).where(CommentThread.week == week))
        if done == "posted":
            return CommentRun(week, reason="already posted")
        comments = week_comments(session, key, week)
    if not comments:
        return CommentRun(week, reason="no comments")
    skip = _claim(db, week, at)
    if skip is None:
        return CommentRun(week, len(comments), reason="already posted or being posted")

    def posted(count: int) -> None:
        with db.session() as session:
            session.execute(update(CommentThread).where(CommentThread.week == week).values(parts_posted=count))

    try:
        messenger.post_comments(digest.channel_id, digest.message_ts, week, comments, skip=skip, posted=posted, lang=lang)
    except DeliveryFailed as failure:
        _finish(db, week, status="failed", error=failure.reason[:100])
        log.warning("comments.failed week=%s reason=%s", week, failure.reason)
        return CommentRun(week, len(comments), reason=failure.reason)
    _finish(db, week, status="posted", posted_at=at, error=None)
    log.info("comments.posted week=%s comments=%s", week, len(comments))
    return CommentRun(week, len(comments), posted=True)


def _claim(db: Database, week: str, at: dt.datetime) -> int | None:
    """Take the week's thread for this run: the messages posted so far, or None if it is not ours."""
    with db.session() as session:
        upsert(session, CommentThread.__table__, [{"week": week, "status": "posting", "claimed_at": at, "parts_posted": 0}], ["week"])
        taken = session.execute(
            update(CommentThread)
            .where(
                CommentThread.week == week,
                or_(
                    CommentThread.claimed_at == at,
                    CommentThread.status == "failed",
                    (CommentThread.status == "posting") & (CommentThread.claimed_at < at - CLAIM_LEASE),
                ),
                CommentThread.status != "posted",
            )
            .values(status="posting", claimed_at=at)
            .returning(CommentThread.parts_posted)
        ).first()
        return None if taken is None else int(taken.parts_posted)


def _finish(db: Database, week: str, **values: object) -> None:
    with db.session() as session:
        session.execute(update(CommentThread).where(CommentThread.week == week).values(**values))
