"""How long something took, as people write it: 45m, 1h, 1h30m, 1h 30m, 1.5h, 1,5h, 2 hours, 30 min."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from bot.i18n import ENGLISH, N_, Localized, Translator
from bot.labour.errors import UnreadableDuration

EXAMPLES = N_("45m, 1h, 1h30m or 1.5h")
_EXAMPLES = Localized(lambda t: t.gettext(EXAMPLES))

_DURATION = re.compile(
    r"""^
    (?:(?P<hours>\d{1,4}(?:[.,]\d{1,3})?) \s* (?:h|hrs?|hours?))?
    \s*
    (?:(?P<minutes>\d{1,5}) \s* (?P<unit>m|mins?|minutes?)?)?
    $""",
    re.IGNORECASE | re.VERBOSE,
)
_SHOWN = 30  # how much of unreadable text to quote back: enough to recognise, never a wall


def parse_duration(text: str) -> int:
    """Whole minutes (rounded) in `text`; whether the amount is allowed is the service's rule."""
    cleaned = " ".join(text.split())
    match = _DURATION.match(cleaned)
    if not cleaned or match is None or not (match["hours"] or match["minutes"]):
        raise _unreadable(cleaned)
    if match["minutes"] and not match["unit"] and not match["hours"]:
        # A bare number could be minutes or hours; guessing wrong would misstate the effort.
        raise UnreadableDuration(N_("Add a unit to “{text}”: {examples}."), text=cleaned[:_SHOWN], examples=_EXAMPLES)
    return _hours_in_minutes(match["hours"]) + int(match["minutes"] or 0)


def _hours_in_minutes(hours: str | None) -> int:
    if not hours:
        return 0
    try:
        # Decimal, so 1.1h is 66 minutes and not 66.00000000000001 rounded by luck.
        exact = Decimal(hours.replace(",", ".")) * 60
    except InvalidOperation:  # pragma: no cover — the pattern admits only digits and one separator
        raise _unreadable(hours) from None
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def _unreadable(text: str) -> UnreadableDuration:
    if not text:
        return UnreadableDuration(N_("Say how long it took, e.g. {examples}."), examples=_EXAMPLES)
    return UnreadableDuration(
        N_("I couldn't read “{text}” as a duration. Write it like {examples}."), text=text[:_SHOWN], examples=_EXAMPLES
    )


def format_minutes(minutes: int, t: Translator = ENGLISH) -> str:
    """`90` → "1 h 30 min": the unit people read at a glance."""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return t.gettext("{hours} h {minutes} min", hours=t.integer(hours), minutes=t.integer(rest))
    if hours:
        return t.gettext("{hours} h", hours=t.integer(hours))
    return t.gettext("{minutes} min", minutes=t.integer(rest))
