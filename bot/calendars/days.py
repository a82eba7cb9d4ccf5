"""Working weeks and public holidays: which local dates are a person's workdays.

Pure: no database, no settings. `bot.calendars.people` decides whose calendar is which.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import holidays

from bot.weeks import IsoWeek

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # ISO weekdays 1 … 7
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAYS = {name: number for number, name in enumerate(DAY_NAMES, start=1)} | {
    name: number for number, name in enumerate(_FULL_NAMES, start=1)
}
_SEPARATORS = re.compile(r"[,;\s]+")
_RANGE = re.compile(r"\s*[-–]\s*")
WORKDAYS_EXAMPLES = "mon-fri, sun-thu or mon,tue,wed"


def _day(text: str, whole: str) -> int:
    number = _DAYS.get(text.strip().lower())
    if number is None:
        raise ValueError(f"workdays {whole!r}: {text.strip()!r} is not a day (write days as {WORKDAYS_EXAMPLES})")
    return number


def parse_workdays(text: str) -> frozenset[int]:
    """The ISO weekdays a text such as `mon-fri`, `sun-thu`, `mon,tue,wed` or `mon-wed,fri` names.

    A range runs forward through the week and may wrap past Sunday (`sun-thu` is Sunday to
    Thursday). Raises ValueError naming the part it cannot read.
    """
    days: set[int] = set()
    parts = [part for part in _SEPARATORS.split(_RANGE.sub("-", text.strip())) if part]
    if not parts:
        raise ValueError(f"workdays is empty; name at least one day, e.g. {WORKDAYS_EXAMPLES}")
    for part in parts:
        ends = part.split("-")
        if len(ends) == 1:
            days.add(_day(ends[0], text))
        elif len(ends) == 2 and all(ends):
            first, last = _day(ends[0], text), _day(ends[1], text)
            span = (last - first) % 7
            days.update((first - 1 + step) % 7 + 1 for step in range(span + 1))
        else:
            raise ValueError(f"workdays {text!r}: {part!r} is not a day or a range of days such as mon-fri")
    return frozenset(days)


def workdays_text(days: Iterable[int]) -> str:
    """The shortest way to write these weekdays: `mon-fri`, `sun-thu`, `mon,wed,fri`."""
    chosen = set(days)
    if len(chosen) == 7:
        return "mon-sun"
    # Runs of consecutive days going round the week, each starting just after a day off; a run
    # that wraps past Sunday (sun-thu) is written first, as the week it describes starts there.
    first_off = min(day for day in range(1, 8) if day not in chosen)
    runs: list[list[int]] = []
    for step in range(1, 8):
        day = (first_off - 1 + step) % 7 + 1
        if day in chosen:
            if runs and runs[-1][-1] % 7 + 1 == day:
                runs[-1].append(day)
            else:
                runs.append([day])
    runs.sort(key=lambda run: (run[-1] >= run[0], run[0]))
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAY_NAMES[run[0] - 1]}-{DAY_NAMES[run[-1] - 1]}")
        else:
            parts.extend(DAY_NAMES[day - 1] for day in run)
    return ",".join(parts)


def check_reaches(days: Iterable[int], pulse_day: int, what: str) -> None:
    """Refuse a working week that ends before the pulse day: weeks run Monday to Sunday, so
    someone who works only earlier in the week would never be asked."""
    if max(days) < pulse_day:
        raise ValueError(
            f"{what} {workdays_text(days)} has no workday on or after the pulse day "
            f"({_FULL_NAMES[pulse_day - 1]}; weeks run Monday to Sunday), so they would never get the pulse"
        )


def check_country(text: str) -> str:
    """The country code, upper-cased, if public holidays are known for it; else ValueError."""
    code = text.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code) or code not in _supported_countries():
        raise ValueError(
            f"country {text.strip()!r} is not a country code with known public holidays "
            "(ISO 3166-1 alpha-2, e.g. DE, US, AE)"
        )
    return code


@functools.cache
def _supported_countries() -> frozenset[str]:
    return frozenset(code for code in holidays.list_supported_countries() if len(code) == 2)


@functools.lru_cache(maxsize=1024)
def _public_holidays(country: str, year: int) -> Mapping[dt.date, str]:
    # A plain dict: read from several sending threads at once, never expanded behind their back.
    return dict(holidays.country_holidays(country, years=year).items())


@dataclass(frozen=True)
class Calendar:
    """A working week and, when known, the country whose public holidays are days off."""

    workdays: frozenset[int]
    country: str | None = None

    def holiday(self, day: dt.date) -> str | None:
        """The public holiday on `day` in this calendar's country, if it is one."""
        if self.country is None:
            return None
        return _public_holidays(self.country, day.year).get(day)

    def is_workday(self, day: dt.date) -> bool:
        return day.isoweekday() in self.workdays and self.holiday(day) is None

    def first_workday(self, week: IsoWeek, from_day: int) -> dt.date | None:
        """The first workday of `week` on or after ISO weekday `from_day`: where a DM due that
        day goes when the day itself is off. None when the rest of the week is off."""
        for weekday in range(from_day, 8):
            day = week.day(weekday)
            if self.is_workday(day):
                return day
        return None
