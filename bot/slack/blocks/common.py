"""Small pieces shared by the Block Kit builders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from bot.i18n import ENGLISH, Translator

# Row ids are PostgreSQL `integer`s; a number outside that range on a button was never ours.
MAX_ROW_ID = 2**31 - 1


def parse_id(text: object) -> int:
    """A row id the app wrote on a button or into a modal's metadata; ValueError if it cannot be one."""
    if not (isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ROW_ID))):
        raise ValueError("not a row id")
    number = int(text)
    if not 1 <= number <= MAX_ROW_ID:
        raise ValueError("not a row id")
    return number


def escape(text: str) -> str:
    """Make text safe inside mrkdwn: no mentions such as <!channel>, no broken links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_text(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, nothing dropped: each cut at a space or
    line break in the second half of a piece when there is one, and never inside an escape such
    as `&amp;` (so escape first, then split)."""
    pieces = []
    while len(text) > limit:
        cut = max(text.rfind(" ", limit // 2, limit), text.rfind("\n", limit // 2, limit))
        cut = cut + 1 if cut > 0 else limit
        entity = text.rfind("&", cut - 4, cut)
        if entity >= 0 and ";" not in text[entity:cut]:
            cut = entity
        pieces.append(text[:cut])
        text = text[cut:]
    pieces.append(text)
    return pieces


def slack_date(at: dt.datetime, t: Translator = ENGLISH) -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback."""
    utc = at.astimezone(dt.timezone.utc)
    fallback = t.datetime(utc, english="EEE dd MMM HH:mm", skeleton="MMMEd") + " UTC"
    # Slack fills in {date_short_pretty} and {time}; only the words around them are ours.
    shown = t.gettext("{date_short_pretty} at {time}")
    return f"<!date^{int(at.timestamp())}^{shown}|{fallback}>"


def render(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    """Blocks as Slack wants them; slack_sdk checks its limits while serialising."""
    return [block.to_dict() for block in blocks]
