"""Confidentiality in one place: keyed pseudonyms for answers.

Answers are stored under an HMAC of the Slack user id keyed with a server-side secret, never
next to the id itself, so a database dump alone does not say who answered what.
"""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(key: bytes, slack_user_id: str) -> str:
    return hmac.new(key, slack_user_id.encode("utf-8"), hashlib.sha256).hexdigest()


def large_enough(respondents: int, min_group_size: int) -> bool:
    """Whether an aggregate over this many respondents may be shown at all."""
    return respondents >= min_group_size
