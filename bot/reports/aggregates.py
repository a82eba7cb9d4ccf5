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

A week that can no longer change is counted once: its per-team figures are kept when it settles
(`settle_weeks`), and every later report reads them instead of the week's answers, which
retention may since have deleted. Only the weeks still open to change are counted each time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from sqlalchemy import ColumnElement, and_, case, delete, false, func, insert, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.db import Database, conflict_insert
from bot.explainers.service import keep_explainer_reach
from bot.models import (
    Answer,
    Delivery,
    ExplainerWeekReach,
    HiddenWorkReport,
    PulseRound,
    QuestionSet,
    Response,
    SettledWeek,
    TeamWeekFigures,
)
from bot.surveys.bank import thaw
from bot.weeks import IsoWeek, now, round_closes_at

log = logging.getLogger(__name__)

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
    if len(rows) == 1:
        # Most teams have one row a week: its figures as they are, what _sum would rebuild.
        [row] = rows
        return GroupFigures(
            sent=row.sent,
            responded=row.responded,
            tallies=dict(row.tallies),
            hidden_minutes=dict(row.hidden_minutes),
            hidden_reporters=row.hidden_reporters,
            skipped=row.skipped,
        )
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


def team_weeks(db: Database, weeks: Sequence[str], *, at: dt.datetime | None = None) -> list[TeamWeek]:
    """One row per (week, team at the time) with any data, ordered by week then team id.

    A settled week (see `settles_at`) is read from the figures kept when it settled, and is
    settled here if nobody has yet; a week that can still change is computed from its answers.
    Either way the figures are the same: kept figures are the live ones, taken once.
    """
    at = at or now()
    wanted = list(dict.fromkeys(weeks))
    kept, rows = _kept_figures(db, wanted)
    due = _settled(db, [week for week in wanted if week not in kept], at)
    if due:
        settle_weeks(db, due, at=at)
        more, more_rows = _kept_figures(db, due)
        kept |= more
        rows += more_rows
    live = [week for week in wanted if week not in kept]
    if live:
        with db.session() as session:
            rows += _team_rows(session, live)
    return sorted(rows, key=lambda row: (row.week, row.team_id is not None, row.team_id or 0))


def _team_rows(session: Session, weeks: Sequence[str]) -> list[TeamWeek]:
    cells = _cells(session, weeks, Response.team_id, HiddenWorkReport.team_id, sent_by=Delivery.team_id)
    return [
        TeamWeek(week=week, team_id=team_id, **values)
        for (week, team_id), values in sorted(cells.items(), key=_order)
    ]


def level_weeks(db: Database, weeks: Sequence[str]) -> list[LevelWeek]:
    """One row per (week, level at the time) with any data, ordered by week then level.

    Always computed live: the digest reads levels for the reported week only.
    """
    with db.session() as session:
        cells = _cells(session, weeks, Response.level, HiddenWorkReport.level, sent_by=None)
    return [LevelWeek(week=week, level=level, **values) for (week, level), values in sorted(cells.items(), key=_order)]


# ---------------------------------------------------------------- settled weeks

# Nothing is written to a week after its round closes (Monday 12:00 UTC, when Sunday has ended in
# every time zone, so no hidden work can be filed under it either), except the sends of a fan-out
# batch claimed just before the close, which are recorded as they complete. A week more leaves
# room for those, for a clock that was down and for skew between machines, and still settles the
# week before the one a Monday digest reports.
SETTLE_MARGIN: Final = dt.timedelta(days=7)

# PostgreSQL: settling a week, forgetting a person and retention take this lock, so a week is
# never kept from answers that another transaction is deleting. SQLite has one writer at a time.
_FIGURES_LOCK: Final = 0x70756C7365  # "pulse"


def settles_at(week: str, closes_at: dt.datetime | None = None) -> dt.datetime:
    """When nothing can change a week's figures any more: its round's close, plus the margin."""
    close = round_closes_at(IsoWeek.parse(week))
    if closes_at is not None:
        close = max(close, closes_at)
    return close + SETTLE_MARGIN


def _settled(db: Database, weeks: Sequence[str], at: dt.datetime) -> list[str]:
    if not weeks:
        return []
    with db.session() as session:
        rounds = session.execute(select(PulseRound.week, PulseRound.closes_at).where(PulseRound.week.in_(list(weeks))))
        closes = {week: closes_at for week, closes_at in rounds}
    return [week for week in weeks if settles_at(week, closes.get(week)) <= at]


def hold_week_figures(session: Session) -> None:
    """Wait for, then hold until the transaction ends, the right to keep or drop weeks' figures."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_FIGURES_LOCK)))


def settle_due(db: Database, weeks: Sequence[str], *, at: dt.datetime | None = None) -> list[str]:
    """Keep the figures of those of these weeks that have settled and are not kept yet."""
    at = at or now()
    if not weeks:
        return []
    with db.session() as session:
        kept = set(session.scalars(select(SettledWeek.week).where(SettledWeek.week.in_(list(weeks)))))
    return settle_weeks(db, _settled(db, [week for week in weeks if week not in kept], at), at=at)


def settle_weeks(db: Database, weeks: Sequence[str], *, at: dt.datetime | None = None) -> list[str]:
    """Keep the figures of these settled weeks, each once: the weeks this call kept.

    Each week is marked and its figures written in a transaction of its own, so it is kept whole
    or not at all, and the database is held for one week's counting at a time; a week another
    process kept first is left as it is.
    """
    at = at or now()
    weeks = sorted(set(weeks))  # in order: each week's explainer reach builds on the one before
    settled = set(_settled(db, weeks, at))
    unsettled = [week for week in weeks if week not in settled]
    if unsettled:
        raise ValueError(f"{', '.join(unsettled)} can still change; it is not settled")
    kept = []
    for week in weeks:
        with db.session() as session:
            hold_week_figures(session)
            # On SQLite this first write takes the database's one write lock: what follows reads
            # a state no one else can change before the commit.
            if not _mark_settled(session, week, at):
                continue
            figures = [_kept_row(row) for row in _team_rows(session, [week])]
            if figures:
                session.execute(insert(TeamWeekFigures), figures)
            keep_explainer_reach(session, [week])
        kept.append(week)
    log.info("figures.settled weeks=%s", kept)
    return kept


def _kept_row(row: TeamWeek) -> dict[str, Any]:
    return {
        "week": row.week,
        "team_id": row.team_id,
        "sent": row.sent,
        "responded": row.responded,
        "skipped": row.skipped,
        "tallies": {key: [t.count, t.total, t.favourable, t.flagged] for key, t in row.tallies.items()},
        "hidden_minutes": dict(row.hidden_minutes),
        "hidden_reporters": row.hidden_reporters,
    }


def _mark_settled(session: Session, week: str, at: dt.datetime) -> bool:
    statement = (
        conflict_insert(session, SettledWeek)
        .values(week=week, settled_at=at)
        .on_conflict_do_nothing(index_elements=["week"])
        .returning(SettledWeek.week)
    )
    return session.execute(statement).scalar() is not None


def _kept_figures(db: Database, weeks: Sequence[str]) -> tuple[set[str], list[TeamWeek]]:
    """The kept weeks among these, and their rows (in one statement: one consistent state)."""
    if not weeks:
        return set(), []
    with db.session() as session:
        found = session.execute(
            select(
                SettledWeek.week,
                TeamWeekFigures.id,
                TeamWeekFigures.team_id,
                TeamWeekFigures.sent,
                TeamWeekFigures.responded,
                TeamWeekFigures.skipped,
                TeamWeekFigures.tallies,
                TeamWeekFigures.hidden_minutes,
                TeamWeekFigures.hidden_reporters,
            )
            .outerjoin(TeamWeekFigures, TeamWeekFigures.week == SettledWeek.week)
            .where(SettledWeek.week.in_(list(weeks)))
            .order_by(SettledWeek.week, TeamWeekFigures.id)
        ).all()
    kept: set[str] = set()
    cells: dict[tuple[str, int | None], list[TeamWeek]] = defaultdict(list)
    for week, figures_id, team_id, sent, responded, skipped, tallies, minutes, reporters in found:
        kept.add(week)
        if figures_id is None:
            continue  # a week settled with no figures at all
        cells[(week, team_id)].append(
            TeamWeek(
                week=week,
                team_id=team_id,
                sent=sent,
                responded=responded,
                skipped=skipped,
                tallies={key: QuestionTally(int(c), float(t), f, g) for key, (c, t, f, g) in tallies.items()},
                hidden_minutes=dict(minutes),
                hidden_reporters=reporters,
            )
        )
    rows = []
    for (week, team_id), same in cells.items():
        # Teams deleted since their week settled all leave their figures under no team.
        rows.append(same[0] if len(same) == 1 else _merged(week, team_id, same))
    return kept, rows


def _merged(week: str, team_id: int | None, rows: Sequence[TeamWeek]) -> TeamWeek:
    total = combine(rows)
    return TeamWeek(
        week=week,
        team_id=team_id,
        sent=total.sent,
        responded=total.responded,
        skipped=total.skipped,
        tallies=total.tallies,
        hidden_minutes=total.hidden_minutes,
        hidden_reporters=total.hidden_reporters,
    )


def unsettle_weeks(session: Session, weeks: Iterable[str]) -> None:
    """Drop the kept figures of these weeks (in the caller's transaction): they are worked out
    again from what remains. `/pulse forget` does this for the weeks a person answered in."""
    weeks = sorted(set(weeks))
    if not weeks:
        return
    hold_week_figures(session)
    session.execute(delete(ExplainerWeekReach).where(ExplainerWeekReach.week.in_(weeks)))
    session.execute(delete(TeamWeekFigures).where(TeamWeekFigures.week.in_(weeks)))
    session.execute(delete(SettledWeek).where(SettledWeek.week.in_(weeks)))


def _order(item: tuple[tuple[str, Any], object]) -> tuple[str, bool, Any]:
    (week, group), _ = item
    return week, group is not None, group if group is not None else 0


@dataclass(frozen=True)
class _Rounds:
    weeks: dict[int, str]  # round id → ISO week
    favourable: ColumnElement[Any]  # 1/0 per answer against its round's favourable mark, NULL without one
    flagged: ColumnElement[Any]  # 1/0 per answer against the rate mark, NULL for other questions


def _rounds(session: Session, weeks: Sequence[str]) -> _Rounds:
    """The rounds of these weeks, and per-answer marks that follow each round's own question set."""
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
    session: Session,
    weeks: Sequence[str],
    response_group: InstrumentedAttribute[Any],
    hidden_group: InstrumentedAttribute[Any],
    *,
    sent_by: InstrumentedAttribute[Any] | None,
) -> dict[tuple[str, Any], dict[str, Any]]:
    """Each (week, group) cell's raw figures, as keyword arguments for TeamWeek / LevelWeek."""
    rounds = _rounds(session, weeks)
    round_ids = list(rounds.weeks)
    cells: dict[tuple[str, Hashable], dict[str, Any]] = defaultdict(dict)
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
