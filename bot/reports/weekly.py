"""Organisation-wide figures for one week, computed in SQL and shown only above the group minimum."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from bot.db import Database
from bot.models import Answer, Delivery, PulseRound, Response
from bot.privacy import large_enough
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
        sent = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.round_id == pulse_round.id, Delivery.status == "sent")
        ) or 0
        responded = session.scalar(
            select(func.count()).select_from(Response).where(Response.round_id == pulse_round.id, Response.skipped.is_(False))
        ) or 0
        if not large_enough(responded, min_group_size):
            return WeekOverview(week, sent, responded, suppressed=True)
        questions = {q.key: q for q in thaw(pulse_round.question_set.questions) if q.kind != "text"}
        marks = {key: q.favourable_at_least for key, q in questions.items() if q.favourable_at_least is not None}
        favourable = case(
            *[(Answer.question_key == key, case((Answer.value >= mark, 1), else_=0)) for key, mark in marks.items()],
            else_=None,
        ) if marks else None
        columns = [Answer.question_key, func.count(), func.avg(Answer.value)]
        if favourable is not None:
            columns.append(func.sum(favourable))
        rows = session.execute(
            select(*columns)
            .join(Response, Response.id == Answer.response_id)
            .where(Response.round_id == pulse_round.id, Answer.value.is_not(None))
            .group_by(Answer.question_key)
        ).all()
    scores = []
    means: dict[str, float] = {}
    for row in rows:
        key, count, mean = row[0], row[1], float(row[2])
        if key not in questions or not large_enough(count, min_group_size):
            continue
        means[key] = mean
        fav = row[3] if favourable is not None and key in marks else None
        scores.append(Score(key, count, mean, fav / count if fav is not None else None))
    order = list(questions)
    scores.sort(key=lambda score: order.index(score.question))
    net = means["time_saved"] - means["upkeep"] if {"time_saved", "upkeep"} <= means.keys() else None
    return WeekOverview(week, sent, responded, scores, net)
