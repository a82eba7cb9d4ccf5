"""The port the roster reads Slack's user directory through, and what a Slack status means."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.settings import AwayStatus


@dataclass(frozen=True)
class SlackUser:
    user_id: str
    email: str | None
    tz: str | None
    deleted: bool
    is_bot: bool
    status_emoji: str = ""
    status_text: str = ""
    status_expiration: dt.datetime | None = None  # None when the status does not expire
    name: str = ""  # the name Slack shows (real name, else display name), for what the roster reports
    locale: str | None = None  # e.g. fr-FR, when Slack was asked for it (include_locale)

    @property
    def label(self) -> str:
        """How a report names the person: `Ana Lima (U012ABCDEF)`, or the id alone."""
        return f"{self.name} ({self.user_id})" if self.name else self.user_id


class Directory(Protocol):
    def all_users(self) -> Iterable[SlackUser]: ...


def away_state(user: SlackUser, away: AwayStatus, at: dt.datetime) -> tuple[bool, dt.datetime | None]:
    """Whether the status says the person is away (vacation, out sick), and until when."""
    if user.status_expiration is not None and user.status_expiration <= at:
        return False, None
    emoji = user.status_emoji.strip().lower()
    text = user.status_text.lower()
    by_emoji = bool(emoji) and emoji in {e.lower() for e in away.emoji}
    by_words = any(re.search(rf"\b{re.escape(word.lower())}\b", text) for word in away.words)
    if by_emoji or by_words:
        return True, user.status_expiration
    return False, None
