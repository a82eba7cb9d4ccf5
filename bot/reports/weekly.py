"""Organisation-wide figures for one week, read from the week's release."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.db import Database
from bot.release.families import PARTICIPATION
from bot.release.service import released
from bot.reports import readings
from bot.reports.readings import Group


@dataclass(frozen=True)
class Score:
    question: str
    respondents: int
    mean: float
    favourable: float | None  # share of answers at or above the question's favourable mark


@dataclass(frozen=True)
class WeekOverview:
    week: str
    sent: int | None  # None: participation was not released (too few people asked)
    responded: int | None
    scores: list[Score] = field(default_factory=list)
    net_hours: float | None = None  # mean time saved minus mean upkeep, self-reported
    suppressed: bool = False  # too few respondents to show any score

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.sent if self.sent and self.responded is not None else None


def week_overview(
    db: Database, key: bytes, week: str, *, min_group_size: int, at: dt.datetime | None = None
) -> WeekOverview | None:
    """Participation and the organisation's released scores; None while the week is open."""
    [release] = released(db, key, [week], min_group_size, at=at)
    if not release.released:
        return None
    org = Group.organisation()
    taking_part = release.get(PARTICIPATION)
    scores = []
    for measure in release.measures("q:"):
        found = release.get(measure)
        if found is not None:
            scores.append(Score(measure.removeprefix("q:"), found.people, found.mean, found.share("favourable")))
    return WeekOverview(
        week,
        None if taking_part is None else taking_part.people,
        None if taking_part is None else int(taking_part.total),
        scores,
        readings.net_hours(release, org),
        suppressed=not scores,
    )
