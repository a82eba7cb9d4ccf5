"""Slash-command text parsed into typed commands, in one place."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from bot.errors import PulseError

_WEEKS = re.compile(r"^(\d{1,3})\s*w(?:eeks?|ks?)?$", re.IGNORECASE)


class UsageError(PulseError):
    """The command's words could not be read; the message says how to write them."""


class Help(BaseModel):
    kind: Literal["help"] = "help"


class Pause(BaseModel):
    kind: Literal["pause"] = "pause"
    weeks: int | None = None


class Resume(BaseModel):
    kind: Literal["resume"] = "resume"


SlashCommand = Help | Pause | Resume


def parse_slash(text: str) -> SlashCommand:
    words = text.strip().split()
    if not words:
        return Help()
    name, rest = words[0].lower(), words[1:]
    if name == "help":
        return Help()
    if name == "resume" and not rest:
        return Resume()
    if name == "pause":
        if not rest:
            return Pause()
        match = _WEEKS.match(" ".join(rest))
        if match is None:
            raise UsageError(f"I couldn't read “{' '.join(rest)}”. Try `/pulse pause 2w`, or `/pulse pause` to pause until you resume.")
        return Pause(weeks=int(match[1]))
    raise UsageError(f"I don't know `/pulse {text.strip()[:60]}`. Here is what I can do:")
