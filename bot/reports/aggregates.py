"""Raw figures per week and team (or level), computed in SQL: GROUP BY in the database.

These figures are not yet fit to show: they never leave bot/reports/ without passing the
confidentiality engine (bot/privacy.py), which decides which teams' figures may be shown.

Every figure belongs to the team (or level) the person had *at the time*: a response, a delivery
and a hidden-work report each record it when written, so moving someone later does not move
their past answers, and last year's figures do not change when the roster does.

Cost: every query is restricted to the round ids (or ISO weeks) asked for and walks an index that
starts with them (responses(round_id, team_id), answers(response_id, question_key, value) within
the rounds' response ids, deliveries(round_id, status), hidden_work_reports(week, team_id)), so
the work follows the weeks reported, not the length of the history. Answer rows never come to
Python: only one row per (week, team, question) does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from sqlalchemy import ColumnElement, and_, case, false, func, select
from sqlalchemy.orm import InstrumentedAttribute

from bot.db import Database
from bot.models import (
    Answer,
    Delivery,
    HiddenWorkReport,
    PulseRound,
    QuestionSet,
    Response,
)
from bot.surveys.bank import thaw

# The digest's two rates are shares of answers at or above a mark on the question's own scale:
# rework "Often" (3) or "Always" (4) on 0 never … 4 always; workaround "Yes" (1) on 0 no / 1 yes.
REWORK_OFTEN: Final = 3.0
WORKAROUND_YES: Final = 1.0
RATE_MARKS: Final[Mapping[str, float]] = {"rework": REWORK_OFTEN, "workaround": WORKAROUND_YES}


@dataclass(frozen=True)
class QuestionTally:
    """The answers to one question in one cell: enough to add cells up and take means and shares."""

    count: int
    total: float
    favourable: int | None  # answers ≥ the question's favourable_at_least; None: it has none
    flagged: int | None = None  # answers ≥ the rate mark (RATE_MARKS); None: not a rate question

    def __add__(self, other: QuestionTally) -> QuestionTally:
        return QuestionTally(
            count=self.count + other.count,
            total=self.total + other.total,
            favourable=_add_known(self.favourable, other.favourable),
            flagged=_add_known(self.flagged, other.flagged),
        )


def _add_known(a: int | None, b: int | None) -> int | None:
    # A share over a mix of marked and unmarked answers would be wrong, so it is no share at all
    # (only when a question's mark was changed between weeks and those weeks are summed).
    return None if a is None or b is None else a + b


@dataclass(frozen=True)
class TeamWeek:
    """Raw figures for the people whose team *at the time* was exactly this team (not its subtree)."""

    week: str
    team_id: int | None  # None: the team was deleted since (foreign keys set it to NULL)
    sent: int = 0  # pulse deliveries sent to people of this team that week
    responded: int = 0  # responses not skipped
    skipped: int = 0
    tallies: Mapping[str, QuestionTally] = field(default_factory=dict)  # per question key
    hidden_minutes: Mapping[str, int] = field(default_factory=dict)  # per category
    hidden_reporters: int = 0  # distinct pseudonyms who logged hidden work in this team that week


@dataclass(frozen=True)
class LevelWeek:
    """The same figures keyed by level at the time (e.g. clarity by level).

    Deliveries record the team, not the level, so there is no `sent` per level.
    """

    week: str
    level: str | None
    responded: int = 0
    skipped: int = 0
    tallies: Mapping[str, QuestionTally] = field(default_factory=dict)
    hidden_minutes: Mapping[str, int] = field(default_factory=dict)
    hidden_reporters: int = 0

    @property
    def figures(self) -> GroupFigures:
        return _sum([self], sent=0)


@dataclass(frozen=True)
class GroupFigures:
    """Figures of several teams together (a subtree, "other teams", the total)."""

    sent: int
    responded: int
    tallies: Mapping[str, QuestionTally]
    hidden_minutes: Mapping[str, int]
    hidden_reporters: int
    skipped: int = 0

    @property
    def respondents_hidden_work(self) -> int:
        return self.hidden_reporters

    def response_rate(self) -> float | None:
        return self.responded / self.sent if self.sent else None

    def count(self, key: str) -> int:
        tally = self.tallies.get(key)
        return tally.count if tally else 0

    def mean(self, key: str) -> float | None:
        tally = self.tallies.get(key)
        return tally.total / tally.count if tally and tally.count else None

    def favourable_share(self, key: str) -> float | None:
        tally = self.tallies.get(key)
        if tally is None or not tally.count or tally.favourable is None:
            return None
        return tally.favourable / tally.count

    def net_hours(self) -> float | None:
        """Mean time saved minus mean upkeep, per respondent per week (self-reported)."""
        saved, upkeep = self.mean("time_saved"), self.mean("upkeep")
        return None if saved is None or upkeep is None else saved - upkeep

    def rate(self, key: str) -> float | None:
        tally = self.tallies.get(key)
        if tally is None or not tally.count or tally.flagged is None:
            return None
        return tally.flagged / tally.count

    def rework_rate(self) -> float | None:
        """Share answering rework "Often" or "Always"."""
        return self.rate("rework")

    def workaround_rate(self) -> float | None:
        """Share answering workaround "Yes"."""
        return self.rate("workaround")

    def hidden_hours(self, category: str | None = None) -> float | None:
        """Hidden-work hours logged (of one category, or all); None when nobody logged any."""
        if not self.hidden_reporters:
            return None
        minutes = sum(self.hidden_minutes.values()) if category is None else self.hidden_minutes.get(category, 0)
        return minutes / 60

    def hidden_hours_by_category(self) -> list[tuple[str, float]]:
        return sorted(((c, m / 60) for c, m in self.hidden_minutes.items()), key=lambda item: -item[1])


class _Cell(Protocol):
    @property
    def responded(self) -> int: ...
    @property
    def skipped(self) -> int: ...
    @property
    def tallies(self) -> Mapping[str, QuestionTally]: ...
    @property
    def hidden_minutes(self) -> Mapping[str, int]: ...
    @property
    def hidden_reporters(self) -> int: ...


def combine(rows: Iterable[TeamWeek]) -> GroupFigures:
    """Add up a handful of per-team rows (a few dozen at most, never answer rows).

    Respondents add up exactly: a response has one team. Hidden-work reporters add up per team,
    so someone who logged work in two teams in one week (moved mid-week) counts in both.
    """
    rows = list(rows)
    return _sum(rows, sent=sum(row.sent for row in rows))


def _sum(rows: Iterable[_Cell], *, sent: int) -> GroupFigures:
    responded = skipped = reporters = 0
    # The same additions, in the same order, as QuestionTally.__add__, without a new frozen
    # tally per row: a digest adds up thousands of these.
    sums: dict[str, list[Any]] = {}  # key → [count, total, favourable, flagged]
    minutes: dict[str, int] = defaultdict(int)
    for row in rows:
        responded += row.responded
        skipped += row.skipped
        reporters += row.hidden_reporters
        for key, tally in row.tallies.items():
            so_far = sums.get(key)
            if so_far is None:
                sums[key] = [tally.count, tally.total, tally.favourable, tally.flagged]
                continue
            so_far[0] += tally.count
            so_far[1] += tally.total
            so_far[2] = _add_known(so_far[2], tally.favourable)
            so_far[3] = _add_known(so_far[3], tally.flagged)
        for category, value in row.hidden_minutes.items():
            minutes[category] += value
    return GroupFigures(
        sent=sent,
        responded=responded,
        tallies={key: QuestionTally(*values) for key, values in sums.items()},
        hidden_minutes=dict(minutes),
        hidden_reporters=reporters,
        skipped=skipped,
    )


# ---------------------------------------------------------------- SQL


def team_weeks(db: Database, weeks: Sequence[str]) -> list[TeamWeek]:
    """One row per (week, team at the time) with any data, ordered by week then team id."""
    cells = _cells(db, weeks, Response.team_id, HiddenWorkReport.team_id, sent_by=Delivery.team_id)
    return [
        TeamWeek(week=week, team_id=team_id, **values)
        for (week, team_id), values in sorted(cells.items(), key=_order)
    ]


def level_weeks(db: Database, weeks: Sequence[str]) -> list[LevelWeek]:
    """One row per (week, level at the time) with any data, ordered by week then level."""
    cells = _cells(db, weeks, Response.level, HiddenWorkReport.level, sent_by=None)
    return [LevelWeek(week=week, level=level, **values) for (week, level), values in sorted(cells.items(), key=_order)]


def _order(item: tuple[tuple[str, Any], object]) -> tuple[str, bool, Any]:
    (week, group), _ = item
    return week, group is not None, group if group is not None else 0


@dataclass(frozen=True)
class _Rounds:
    weeks: dict[int, str]  # round id → ISO week
    favourable: ColumnElement[Any]  # 1/0 per answer against its round's favourable mark, NULL without one
    flagged: ColumnElement[Any]  # 1/0 per answer against the rate mark, NULL for other questions


def _rounds(db: Database, weeks: Sequence[str]) -> _Rounds:
    """The rounds of these weeks, and per-answer marks that follow each round's own question set."""
    with db.session() as session:
        rows = session.execute(
            select(PulseRound.id, PulseRound.week, PulseRound.question_set_id, QuestionSet.questions)
            .join(QuestionSet, QuestionSet.id == PulseRound.question_set_id)
            .where(PulseRound.week.in_(list(weeks)))
        ).all()
    # Rounds usually share one question set, so one WHEN per (question, mark) with its round ids
    # keeps the CASE short however many weeks are asked for.
    marked: dict[tuple[str, float], list[int]] = defaultdict(list)
    for row in rows:
        for question in thaw(row.questions):
            if question.favourable_at_least is not None:
                marked[(question.key, question.favourable_at_least)].append(row.id)
    favourable = [
        (and_(Answer.question_key == key, Response.round_id.in_(ids)), case((Answer.value >= mark, 1), else_=0))
        for (key, mark), ids in sorted(marked.items())
    ]
    flagged = [(Answer.question_key == key, case((Answer.value >= mark, 1), else_=0)) for key, mark in RATE_MARKS.items()]
    return _Rounds(
        weeks={row.id: row.week for row in rows},
        favourable=case(*favourable, else_=None) if favourable else case((false(), 0), else_=None),
        flagged=case(*flagged, else_=None),
    )


def _cells(
    db: Database,
    weeks: Sequence[str],
    response_group: InstrumentedAttribute[Any],
    hidden_group: InstrumentedAttribute[Any],
    *,
    sent_by: InstrumentedAttribute[Any] | None,
) -> dict[tuple[str, Any], dict[str, Any]]:
    """Each (week, group) cell's raw figures, as keyword arguments for TeamWeek / LevelWeek."""
    rounds = _rounds(db, weeks)
    round_ids = list(rounds.weeks)
    cells: dict[tuple[str, Hashable], dict[str, Any]] = defaultdict(dict)
    with db.session() as session:
        if round_ids and sent_by is not None:
            sent = session.execute(
                select(Delivery.round_id, sent_by, func.count())
                .where(Delivery.round_id.in_(round_ids), Delivery.status == "sent")
                .group_by(Delivery.round_id, sent_by)
            )
            for round_id, group, count in sent:
                cells[(rounds.weeks[round_id], group)]["sent"] = int(count)
        first: int | None = None  # the lowest and highest response id of these rounds
        last: int | None = None
        if round_ids:
            answered = session.execute(
                select(
                    Response.round_id,
                    response_group,
                    func.sum(case((Response.skipped.is_(False), 1), else_=0)),
                    func.sum(case((Response.skipped.is_(True), 1), else_=0)),
                    func.min(Response.id),
                    func.max(Response.id),
                )
                .where(Response.round_id.in_(round_ids))
                .group_by(Response.round_id, response_group)
            )
            for round_id, group, responded, skipped, lowest, highest in answered:
                cell = cells[(rounds.weeks[round_id], group)]
                cell["responded"], cell["skipped"] = int(responded or 0), int(skipped or 0)
                first = lowest if first is None else min(first, lowest)
                last = highest if last is None else max(last, highest)
        if first is not None and last is not None:
            tallies = session.execute(
                select(
                    Response.round_id,
                    response_group,
                    Answer.question_key,
                    func.count(Answer.value),
                    func.sum(Answer.value),
                    func.sum(rounds.favourable),
                    func.sum(rounds.flagged),
                )
                .join(Response, Response.id == Answer.response_id)
                # Free text has no value; a skipped response has no answers, the filter says why.
                .where(Response.round_id.in_(round_ids), Response.skipped.is_(False), Answer.value.is_not(None))
                # Answers hold no round, so without a bound PostgreSQL hashes every answer ever
                # given to find these weeks'. The responses' id range is such a bound (it only
                # narrows, the join still decides), and a narrow one: a round's responses are
                # written in its week, so its answers sit together in the index
                # answers(response_id, question_key, value), which holds all this query reads.
                .where(Answer.response_id.between(first, last))
                .group_by(Response.round_id, response_group, Answer.question_key)
            )
            for round_id, group, key, count, total, favourable, flagged in tallies:
                cell = cells[(rounds.weeks[round_id], group)]
                cell.setdefault("tallies", {})[key] = QuestionTally(
                    count=int(count),
                    total=float(total or 0),
                    favourable=None if favourable is None else int(favourable),
                    flagged=None if flagged is None else int(flagged),
                )
        # Hidden work is filed by the reporter's own ISO week, whether or not a round exists.
        hidden = session.execute(
            select(HiddenWorkReport.week, hidden_group, HiddenWorkReport.category, func.sum(HiddenWorkReport.minutes))
            .where(HiddenWorkReport.week.in_(list(weeks)))
            .group_by(HiddenWorkReport.week, hidden_group, HiddenWorkReport.category)
        )
        for week, group, category, minutes in hidden:
            cells[(week, group)].setdefault("hidden_minutes", {})[category] = int(minutes or 0)
        reporters = session.execute(
            select(HiddenWorkReport.week, hidden_group, func.count(func.distinct(HiddenWorkReport.pseudonym)))
            .where(HiddenWorkReport.week.in_(list(weeks)))
            .group_by(HiddenWorkReport.week, hidden_group)
        )
        for week, group, count in reporters:
            cells[(week, group)]["hidden_reporters"] = int(count)
    return cells
