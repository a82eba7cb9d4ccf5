"""Raw figures per week and team (or level), computed in SQL: GROUP BY in the database.

These figures are not yet fit to show: they never leave bot/reports/ without passing the
confidentiality engine. Every query reads only the rounds and weeks asked for, through indexes on
round and week, so the cost follows the weeks reported, not the length of the history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, case, func, select

from bot.db import Database
from bot.models import Answer, Delivery, HiddenWorkReport, Person, PulseRound, Response
from bot.surveys.bank import thaw

# Shares the digest reports besides "favourable": rework often or always, any workaround.
RATE_MARKS = {"rework": 3.0, "workaround": 1.0}


@dataclass(frozen=True)
class QuestionTally:
    count: int
    total: float
    at_least: int  # answers at or above the question's mark (favourable, or the rate's mark)
    marked: bool = False  # whether the question has such a mark at all


@dataclass(frozen=True)
class TeamWeek:
    """Figures for the respondents whose team at the time was exactly this team."""

    week: str
    team_id: int | None
    sent: int = 0
    responded: int = 0
    skipped: int = 0
    tallies: Mapping[str, QuestionTally] = field(default_factory=dict)
    hidden_minutes: Mapping[str, int] = field(default_factory=dict)
    hidden_reporters: int = 0


@dataclass(frozen=True)
class GroupFigures:
    """Figures of several teams together (a subtree, "other teams", the total)."""

    sent: int
    responded: int
    tallies: Mapping[str, QuestionTally]
    hidden_minutes: Mapping[str, int]
    hidden_reporters: int

    def count(self, key: str) -> int:
        tally = self.tallies.get(key)
        return tally.count if tally else 0

    def mean(self, key: str) -> float | None:
        tally = self.tallies.get(key)
        return tally.total / tally.count if tally and tally.count else None

    def _share(self, key: str) -> float | None:
        tally = self.tallies.get(key)
        return tally.at_least / tally.count if tally and tally.count and tally.marked else None

    def favourable_share(self, key: str) -> float | None:
        return None if key in RATE_MARKS else self._share(key)

    def rework_rate(self) -> float | None:
        return self._share("rework")

    def workaround_rate(self) -> float | None:
        return self._share("workaround")

    def hidden_hours(self) -> float | None:
        return sum(self.hidden_minutes.values()) / 60 if self.hidden_reporters else None

    def hidden_hours_by_category(self) -> list[tuple[str, float]]:
        return sorted(((c, m / 60) for c, m in self.hidden_minutes.items()), key=lambda item: -item[1])


@dataclass(frozen=True)
class LevelWeek:
    week: str
    level: str | None
    figures: GroupFigures


def combine(rows: Iterable[TeamWeek]) -> GroupFigures:
    """Add up a handful of per-team rows: a few dozen at most, never answer rows."""
    sent = responded = reporters = 0
    tallies: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0, False])
    minutes: dict[str, int] = defaultdict(int)
    for row in rows:
        sent += row.sent
        responded += row.responded
        reporters += row.hidden_reporters
        for key, tally in row.tallies.items():
            acc = tallies[key]
            acc[0] += tally.count
            acc[1] += tally.total
            acc[2] += tally.at_least
            acc[3] = acc[3] or tally.marked
        for category, value in row.hidden_minutes.items():
            minutes[category] += value
    return GroupFigures(
        sent=sent,
        responded=responded,
        tallies={k: QuestionTally(int(v[0]), float(v[1]), int(v[2]), bool(v[3])) for k, v in tallies.items()},
        hidden_minutes=dict(minutes),
        hidden_reporters=reporters,
    )


def _rounds(db: Database, weeks: Sequence[str]) -> tuple[dict[int, str], dict[str, float]]:
    """The rounds of these weeks and each question's mark (favourable or rate)."""
    with db.session() as session:
        rounds = session.scalars(select(PulseRound).where(PulseRound.week.in_(list(weeks)))).all()
        marks: dict[str, float] = dict(RATE_MARKS)
        for pulse_round in rounds:
            for question in thaw(pulse_round.question_set.questions):
                if question.favourable_at_least is not None:
                    marks[question.key] = question.favourable_at_least
        return {r.id: r.week for r in rounds}, marks


def _at_least(marks: Mapping[str, float]) -> ColumnElement[int]:
    mark = case(*[(Answer.question_key == key, value) for key, value in marks.items()], else_=None)
    return func.sum(case((Answer.value >= mark, 1), else_=0))


def team_weeks(db: Database, weeks: Sequence[str]) -> list[TeamWeek]:
    rounds, marks = _rounds(db, weeks)
    cells: dict[tuple[str, int | None], dict[str, object]] = defaultdict(dict)
    round_ids = list(rounds)
    with db.session() as session:
        if round_ids:
            sent = session.execute(
                select(Delivery.round_id, Person.team_id, func.count())
                .join(Person, Person.id == Delivery.person_id)
                .where(Delivery.round_id.in_(round_ids), Delivery.status == "sent")
                .group_by(Delivery.round_id, Person.team_id)
            )
            for round_id, team_id, count in sent:
                cells[(rounds[round_id], team_id)]["sent"] = int(count)
            answered = session.execute(
                select(
                    Response.round_id,
                    Response.team_id,
                    func.sum(case((Response.skipped.is_(False), 1), else_=0)),
                    func.sum(case((Response.skipped.is_(True), 1), else_=0)),
                )
                .where(Response.round_id.in_(round_ids))
                .group_by(Response.round_id, Response.team_id)
            )
            for round_id, team_id, responded, skipped in answered:
                cell = cells[(rounds[round_id], team_id)]
                cell["responded"], cell["skipped"] = int(responded or 0), int(skipped or 0)
            tallies = session.execute(
                select(
                    Response.round_id,
                    Response.team_id,
                    Answer.question_key,
                    func.count(Answer.value),
                    func.sum(Answer.value),
                    _at_least(marks),
                )
                .join(Response, Response.id == Answer.response_id)
                .where(Response.round_id.in_(round_ids), Response.skipped.is_(False), Answer.value.is_not(None))
                .group_by(Response.round_id, Response.team_id, Answer.question_key)
            )
            for round_id, team_id, key, count, total, at_least in tallies:
                cell = cells[(rounds[round_id], team_id)]
                tally = QuestionTally(int(count), float(total or 0), int(at_least or 0), key in marks)
                cell.setdefault("tallies", {})[key] = tally  # type: ignore[index]
        hidden = session.execute(
            select(HiddenWorkReport.week, HiddenWorkReport.team_id, HiddenWorkReport.category, func.sum(HiddenWorkReport.minutes))
            .where(HiddenWorkReport.week.in_(list(weeks)))
            .group_by(HiddenWorkReport.week, HiddenWorkReport.team_id, HiddenWorkReport.category)
        )
        for week, team_id, category, minutes in hidden:
            cells[(week, team_id)].setdefault("hidden_minutes", {})[category] = int(minutes or 0)  # type: ignore[index]
        reporters = session.execute(
            select(HiddenWorkReport.week, HiddenWorkReport.team_id, func.count(func.distinct(HiddenWorkReport.pseudonym)))
            .where(HiddenWorkReport.week.in_(list(weeks)))
            .group_by(HiddenWorkReport.week, HiddenWorkReport.team_id)
        )
        for week, team_id, count in reporters:
            cells[(week, team_id)]["hidden_reporters"] = int(count)
    return [TeamWeek(week=week, team_id=team_id, **values) for (week, team_id), values in sorted(cells.items(), key=_order)]  # type: ignore[arg-type]


def _order(item: tuple[tuple[str, int | None], object]) -> tuple[str, int]:
    (week, team_id), _ = item
    return week, team_id or 0


def level_weeks(db: Database, weeks: Sequence[str]) -> list[LevelWeek]:
    """Respondents and answers per level at the time (for clarity by level)."""
    rounds, marks = _rounds(db, weeks)
    if not rounds:
        return []
    cells: dict[tuple[str, str | None], dict[str, object]] = defaultdict(dict)
    with db.session() as session:
        answered = session.execute(
            select(Response.round_id, Response.level, func.count())
            .where(Response.round_id.in_(list(rounds)), Response.skipped.is_(False))
            .group_by(Response.round_id, Response.level)
        )
        for round_id, level, count in answered:
            cells[(rounds[round_id], level)]["responded"] = int(count)
        tallies = session.execute(
            select(Response.round_id, Response.level, Answer.question_key, func.count(Answer.value), func.sum(Answer.value), _at_least(marks))
            .join(Response, Response.id == Answer.response_id)
            .where(Response.round_id.in_(list(rounds)), Response.skipped.is_(False), Answer.value.is_not(None))
            .group_by(Response.round_id, Response.level, Answer.question_key)
        )
        for round_id, level, key, count, total, at_least in tallies:
            tally = QuestionTally(int(count), float(total or 0), int(at_least or 0), key in marks)
            cells[(rounds[round_id], level)].setdefault("tallies", {})[key] = tally  # type: ignore[index]
    result = []
    for (week, level), values in sorted(cells.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        row = TeamWeek(week=week, team_id=None, responded=int(values.get("responded", 0)), tallies=values.get("tallies", {}))  # type: ignore[arg-type]
        result.append(LevelWeek(week, level, combine([row])))
    return result
