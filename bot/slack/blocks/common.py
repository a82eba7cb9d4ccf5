"""Small pieces shared by the Block Kit builders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block


def escape(text: str) -> str:
    """Make text safe inside mrkdwn: no mentions such as <!channel>, no broken links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_date(at: dt.datetime) -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback."""
    fallback = at.astimezone(dt.timezone.utc).strftime("%a %d %b %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def render(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    """Blocks as Slack wants them; slack_sdk checks its limits while serialising."""
    return [block.to_dict() for block in blocks]
