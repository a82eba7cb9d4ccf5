"""The one place that reads the clock and knows ISO weeks and local send times.

Everything else asks this module, so freezegun controls all time in tests.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def now() -> dt.datetime:
    """The current instant, timezone-aware in UTC."""
    return dt.datetime.now(UTC)


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        match = _WEEK.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not an ISO week; write it as YYYY-Www, e.g. 2026-W48")
        year, week = int(match[1]), int(match[2])
        try:
            dt.date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"{year} has no week {week}") from None
        return cls(year, week)

    @classmethod
    def of(cls, day: dt.date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    def day(self, weekday: int) -> dt.date:
        """The date of ISO weekday 1 (Monday) … 7 (Sunday) in this week."""
        return dt.date.fromisocalendar(self.year, self.week, weekday)

    @property
    def monday(self) -> dt.date:
        return self.day(1)

    def shifted(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.monday + dt.timedelta(weeks=weeks))

    @property
    def ordinal(self) -> int:
        """Weeks since an epoch: consecutive weeks have consecutive ordinals (used for rotation)."""
        return self.monday.toordinal() // 7


def local_now(tz: str, at: dt.datetime | None = None) -> dt.datetime:
    return (at or now()).astimezone(ZoneInfo(tz))


def local_instant(tz: str, day: dt.date, time: dt.time) -> dt.datetime:
    """`time` on `day` on the wall clock of `tz`, as an aware datetime (zoneinfo settles DST gaps)."""
    return dt.datetime.combine(day, time, tzinfo=ZoneInfo(tz))


def round_closes_at(week: IsoWeek) -> dt.datetime:
    """Answers count until the following Monday 12:00 UTC: after Sunday midnight in every zone."""
    return dt.datetime.combine(week.shifted(1).monday, dt.time(12, 0), tzinfo=UTC)


def weeks_later(day: dt.date, weeks: int) -> dt.date:
    return day + dt.timedelta(weeks=weeks)
