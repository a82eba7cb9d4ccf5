"""That PULSE_PSEUDONYM_KEY is the key the stored answers were sealed with.

A different key fails quietly rather than loudly: its pseudonyms match nobody's, so answers
would seem missing, and a week released with it would stay empty for ever. The first write of an
answer, report or rating records the key's fingerprint; every later one, and every release,
checks it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import conflict_insert
from bot.errors import WrongKey
from bot.models import KeyFingerprint
from bot.privacy import key_fingerprint


def require_key(session: Session, key: bytes) -> None:
    """Stop before reading or sealing anything with a key other than the one in use."""
    fingerprint = key_fingerprint(key)
    known = session.scalars(select(KeyFingerprint.fingerprint)).all()
    if not known:
        statement = conflict_insert(session, KeyFingerprint).values(fingerprint=fingerprint)
        session.execute(statement.on_conflict_do_nothing(index_elements=["fingerprint"]))
        known = session.scalars(select(KeyFingerprint.fingerprint)).all()
    if fingerprint not in known:
        raise WrongKey("this PULSE_PSEUDONYM_KEY is not the one the stored answers were sealed with: set that one")
