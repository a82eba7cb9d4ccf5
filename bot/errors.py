"""User-facing failures: each is turned into one clear message at the edge (Slack reply, CLI line)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.i18n import Translator


class PulseError(Exception):
    """A failure the person or operator can act on; str(error) is the message shown to them.

    A message a person may read is given as its English text with `{placeholders}` and their
    values, so `in_language` can show it in the person's own language (bot/i18n.py).
    """

    def __init__(self, message: str = "", /, **params: Any) -> None:
        self.message = message
        self.params = params
        super().__init__(message.format_map({k: str(v) for k, v in params.items()}) if params else message)

    def in_language(self, t: Translator) -> str:
        """The message in `t`'s language (English, or a message nobody translated, as it is)."""
        if not self.message:
            return str(self)
        return t.gettext(self.message, **self.params)


class SettingsError(PulseError):
    """A setting or the behaviour file is missing or malformed."""


class RosterError(PulseError):
    """The roster cannot be imported as given."""


class NotEnrolled(PulseError):
    """The Slack user is not in the roster."""


class Gone(PulseError):
    """What a button or form refers to is no longer there: a pulse round, a question, a rollout.

    The button comes from an older message or an older version of the app; the person is told
    it no longer works and what to use instead.
    """


class RoundClosed(PulseError):
    """The pulse round no longer takes answers."""


class InvalidAnswer(PulseError):
    """An answer that does not belong to the round's questions."""


class RolloutError(PulseError):
    """A rollout cannot be added or read as given."""


class WrongKey(PulseError):
    """A sealed answer does not open with this PULSE_PSEUDONYM_KEY (it was changed, or is not the one used)."""
