"""How long something took, as people write it: 45m, 1h, 1h30m, 1h 30m, 1.5h, 1,5h, 2 hours, 30 min."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from bot.labour.errors import UnreadableDuration

EXAMPLES = "45m, 1h, 1h30m or 1.5h"

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
        raise UnreadableDuration(_unreadable(cleaned))
    if match["minutes"] and not match["unit"] and not match["hours"]:
        # A bare number could be minutes or hours; guessing wrong would misstate the effort.
        raise UnreadableDuration(f"Add a unit to “{cleaned[:_SHOWN]}”: {EXAMPLES}.")
    return _hours_in_minutes(match["hours"]) + int(match["minutes"] or 0)


def _hours_in_minutes(hours: str | None) -> int:
    if not hours:
        return 0
    try:
        # Decimal, so 1.1h is 66 minutes and not 66.00000000000001 rounded by luck.
        exact = Decimal(hours.replace(",", ".")) * 60
    except InvalidOperation:  # pragma: no cover — the pattern admits only digits and one separator
        raise UnreadableDuration(_unreadable(hours)) from None
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def _unreadable(text: str) -> str:
    if not text:
        return f"Say how long it took, e.g. {EXAMPLES}."
    return f"I couldn't read “{text[:_SHOWN]}” as a duration. Write it like {EXAMPLES}."


def format_minutes(minutes: int) -> str:
    """`90` → "1 h 30 min": the unit people read at a glance."""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    if hours:
        return f"{hours} h"
    return f"{rest} min"
