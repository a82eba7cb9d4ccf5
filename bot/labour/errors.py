"""Why a hidden-work report is refused: one type per failure, each naming the field it is about.

`field` is a word of the domain (duration, category, tool, note); the Slack layer maps it to the
modal block that shows the message, so the domain never learns a block id.
"""

from __future__ import annotations

from typing import ClassVar

from bot.errors import PulseError


class InvalidReport(PulseError):
    """A report that breaks a rule; str(error) is what the person reads."""

    field: ClassVar[str]


class UnreadableDuration(InvalidReport):
    field = "duration"


class DurationTooShort(InvalidReport):
    field = "duration"


class DurationTooLong(InvalidReport):
    field = "duration"


class UnknownCategory(InvalidReport):
    field = "category"


class ToolTooLong(InvalidReport):
    field = "tool"


class NoteTooLong(InvalidReport):
    field = "note"
