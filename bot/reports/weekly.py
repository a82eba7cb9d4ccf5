"""Organisation-wide figures for one week, from the per-team aggregates, shown only above the group minimum."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from bot.db import Database
from bot.models import PulseRound
from bot.privacy import large_enough
from bot.reports.aggregates import combine, team_weeks
from bot.surveys.bank import thaw


@dataclass(frozen=True)
class Score:
    question: str
    respondents: int
    mean: float
    favourable: float | None  # share of answers at or above the question's favourable mark


@dataclass(frozen=True)
class WeekOverview:
    week: str
    sent: int
    responded: int
    scores: list[Score] = field(default_factory=list)
    net_hours: float | None = None  # mean time saved minus mean upkeep, self-reported
    suppressed: bool = False  # too few respondents to show anything but participation

    @property
    def response_rate(self) -> float:
        return self.responded / self.sent if self.sent else 0.0


def week_overview(db: Database, week: str, *, min_group_size: int) -> WeekOverview | None:
    """Participation always; scores only for questions with enough respondents."""
    with db.session() as session:
        pulse_round = session.scalar(select(PulseRound).where(PulseRound.week == week))
        if pulse_round is None:
            return None
        questions = [q.key for q in thaw(pulse_round.question_set.questions) if q.kind != "text"]
    # The same per-team figures the digest plans with, summed: one source for every report.
    total = combine(team_weeks(db, [week]))
    if not large_enough(total.responded, min_group_size):
        return WeekOverview(week, total.sent, total.responded, suppressed=True)
    scores = []
    for key in questions:
        mean = total.mean(key)
        if mean is not None and large_enough(total.count(key), min_group_size):
            scores.append(Score(key, total.count(key), mean, total.favourable_share(key)))
    shown = {score.question for score in scores}
    net = total.net_hours() if {"time_saved", "upkeep"} <= shown else None
    return WeekOverview(week, total.sent, total.responded, scores, net)
