"""Pulse comments, released with their week for the council, and read back.

A week's comments are released only when the week's respondents (everyone who answered, not only
those who wrote a comment) number at least the release's `min_group_size`, and only for the
organisation as a whole: no team or level goes with them, since wording plus a small group's
label is how an author is recognised. The decision depends on that count alone, never on what
anyone wrote.

Each released comment is a new row: a random id, the week, and the text sealed (bound to that
id). The rows are written in random order in the release's transaction, so no id, rowid, row
version or position follows the response the comment came from, or when it was written. They are
never changed afterwards; nothing links them to a person, so `/pulse forget` cannot find them.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.keys import require_key
from bot.models import ReleasedComment
from bot.privacy import comments_allowed, random_id, seal, unseal
from bot.release.inputs import WeekInputs


def _context(week: str, comment_id: str) -> str:
    return f"released_comments:{week}:{comment_id}"


def comment_rows(key: bytes, inputs: WeekInputs, min_size: int) -> list[dict[str, Any]]:
    """The week's comments as rows to release, shuffled; none when too few people answered."""
    if not comments_allowed(len(inputs.answered), min_size):
        return []
    texts = list(inputs.comments)
    secrets.SystemRandom().shuffle(texts)
    rows = []
    for text in texts:
        comment_id = random_id()
        sealed = seal(key, {"text": text}, context=_context(inputs.week, comment_id))
        rows.append({"id": comment_id, "week": inputs.week, "sealed": sealed})
    return rows


def week_comments(session: Session, key: bytes, week: str) -> list[str]:
    """A week's released comments, opened, in alphabetical order, case and punctuation aside: an
    order that says nothing about who wrote them or when."""
    rows = session.execute(select(ReleasedComment.id, ReleasedComment.sealed).where(ReleasedComment.week == week)).all()
    if rows:
        require_key(session, key)
    texts = [str(unseal(key, sealed, context=_context(week, comment_id))["text"]) for comment_id, sealed in rows]
    return sorted(texts, key=_alphabetical)


def _alphabetical(text: str) -> tuple[str, str]:
    return "".join(ch for ch in text.casefold() if ch.isalnum()), text


def released_comments(db: Database, key: bytes, week: str) -> list[str]:
    with db.session() as session:
        return week_comments(session, key, week)
