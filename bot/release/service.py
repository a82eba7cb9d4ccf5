"""Releasing a week, once, and reading what was released.

A week is released when its inputs are final: its round has closed (clicks after that are
refused, and nothing more can be filed under the week anywhere in the world) plus a margin for a
fan-out batch still recording its sends. The release is one transaction that claims the week's
row in `releases` first, so two processes release a week once; it is never recounted: forget,
retention, roster moves, new rollouts and a new `min_group_size` leave it as it is.

Every output reads only released figures (`released`), and asking for a week that is final but
not yet released releases it (and every earlier week still waiting) first. For the week still
open, outputs show only its progress (`progress`): participation so far, decided by the same
rule, counted at most once a day.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

from sqlalchemy import delete, func, insert, select, union
from sqlalchemy.orm import Session

from bot.progress import report as report_progress
from bot.db import Database, conflict_insert
from bot.models import (
    ExplainerDelivery,
    ExplainerFeedback,
    HiddenWorkReport,
    ProgressDay,
    ProgressFigure,
    PulseRound,
    Release,
    ReleasedComment,
    ReleasedFigure,
    Response,
    WeekRoster,
)
from bot.release.comments import comment_rows
from bot.release.families import ORG, RULE_VERSION, TEAM, participation_figures, week_figures
from bot.keys import require_key
from bot.release.inputs import gather
from bot.weeks import IsoWeek, now, round_closes_at

log = logging.getLogger(__name__)

# A fan-out batch claimed just before the close records its sends as they complete (seconds);
# an hour covers that and clocks that disagree a little.
RELEASE_MARGIN: Final = dt.timedelta(hours=1)


def final_at(week: str, closes_at: dt.datetime | None = None) -> dt.datetime:
    """When nothing can change the week's inputs any more."""
    close = round_closes_at(IsoWeek.parse(week))
    if closes_at is not None:
        close = max(close, closes_at)
    return close + RELEASE_MARGIN


# ---------------------------------------------------------------- releasing


def release_week(db: Database, key: bytes, week: str, min_size: int, *, at: dt.datetime | None = None) -> bool:
    """Release one final week; False when it was released already (by this or another process)."""
    at = at or now()
    with db.session() as session:
        require_key(session, key)
        closes = session.scalar(select(PulseRound.closes_at).where(PulseRound.week == week))
        if final_at(week, closes) > at:
            raise ValueError(f"{week} is still open; it cannot be released before {final_at(week, closes):%Y-%m-%d %H:%M} UTC")
        # The claim is the first write: on SQLite it takes the one write lock, on PostgreSQL a
        # second releaser waits on the key until this one commits, then finds the week taken.
        claimed = session.execute(
            conflict_insert(session, Release)
            .values(week=week, min_group_size=min_size, rule_version=RULE_VERSION, basis="snapshot", released_at=at)
            .on_conflict_do_nothing(index_elements=["week"])
            .returning(Release.week)
        ).scalar()
        if claimed is None:
            return False
        inputs = gather(session, key, week)
        figures = week_figures(inputs, min_size)
        if figures:
            session.execute(insert(ReleasedFigure), [figure.row(week) for figure in figures])
        comments = comment_rows(key, inputs, min_size)
        if comments:
            session.execute(insert(ReleasedComment), comments)
        _rewrite_in_random_order(session, week)
    log.info("release.week week=%s figures=%s comments=%s", week, len(figures), len(comments))
    return True


def _rewrite_in_random_order(session: Session, week: str) -> None:
    """Write the week's raw rows again, shuffled, in the release's transaction.

    Until now they sat in the order they were written (PostgreSQL's heap and row versions keep
    it), which follows when people answered; afterwards their place and their row versions say
    only that the week was released. SQLite keeps them without rowids, in random-key order.
    """
    round_ids = select(PulseRound.id).where(PulseRound.week == week).scalar_subquery()
    shuffle = secrets.SystemRandom().shuffle
    for table, where in (
        (Response.__table__, Response.round_id == round_ids),
        (HiddenWorkReport.__table__, HiddenWorkReport.week == week),
        (ExplainerFeedback.__table__, ExplainerFeedback.first_week == week),
    ):
        rows = [dict(row) for row in session.execute(select(table).where(where)).mappings()]
        if not rows:
            continue
        shuffle(rows)
        session.execute(delete(table).where(where))
        session.execute(insert(table), rows)


def release_due(db: Database, key: bytes, min_size: int, *, through: str, at: dt.datetime | None = None) -> list[str]:
    """Release, oldest first, every final week up to `through` that has inputs and no release yet.

    Weeks are released in order, so only the weeks after the newest release can be waiting:
    the look-up reads that short range of each table's week index, whatever the history.
    """
    at = at or now()
    with db.session() as session:
        after = session.scalar(select(func.max(Release.week))) or ""
        waiting = sorted(_weeks_with_inputs(session, after, through))
        closes = dict(session.execute(select(PulseRound.week, PulseRound.closes_at).where(PulseRound.week.in_(waiting))).all())
    released = []
    for week in waiting:
        if final_at(week, closes.get(week)) > at:
            break  # later weeks wait for this one
        if release_week(db, key, week, min_size, at=at):
            released.append(week)
            report_progress("weeks released", len(released), len(waiting))
    return released


def _weeks_with_inputs(session: Session, after: str, through: str) -> set[str]:
    def between(column: Any) -> Any:
        return select(column.label("week")).where(column > after, column <= through).distinct()

    query = union(
        between(PulseRound.week),
        between(WeekRoster.week),
        between(HiddenWorkReport.week),
        between(ExplainerDelivery.week),
        between(ExplainerFeedback.first_week),
    )
    return set(session.scalars(query))


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class Released:
    """A released sum over `people` contributors, and indicator counts over the same people."""

    people: int
    total: float
    counts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return self.total / self.people

    def share(self, indicator: str) -> float | None:
        count = self.counts.get(indicator)
        return None if count is None else count / self.people

    def __add__(self, other: Released) -> Released:
        """Two disjoint groups' figures together (a rollout's teams): a sum, never a new figure."""
        counts: dict[str, Any] = {}
        for name in set(self.counts) & set(other.counts):
            mine, theirs = self.counts[name], other.counts[name]
            if isinstance(mine, dict):
                counts[name] = {v: mine.get(v, 0) + theirs.get(v, 0) for v in set(mine) | set(theirs)}
            else:
                counts[name] = mine + theirs
        return Released(self.people + other.people, self.total + other.total, counts)


@dataclass(frozen=True)
class WeekRelease:
    """One week's released figures. A week with no release yet (still open) has `released` False."""

    week: str
    released: bool
    min_group_size: int | None = None
    figures: Mapping[tuple[str, str, str], Released] = field(default_factory=dict)

    def get(self, measure: str, scope: str = ORG, label: str = "") -> Released | None:
        return self.figures.get((measure, scope, label))

    def team(self, measure: str, path: str) -> Released | None:
        return self.figures.get((measure, TEAM, path))

    def labels(self, measure: str, scope: str) -> list[str]:
        return list(self._labels.get((measure, scope), ()))

    def measures(self, prefix: str) -> list[str]:
        return sorted({m for (m, _) in self._labels if m.startswith(prefix)})

    @cached_property
    def _labels(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """(measure, scope) → its labels, sorted: built once, so a reader asking often scans once."""
        grouped: dict[tuple[str, str], list[str]] = {}
        for measure, scope, label in self.figures:
            grouped.setdefault((measure, scope), []).append(label)
        return {key: tuple(sorted(labels)) for key, labels in grouped.items()}


def released(
    db: Database, key: bytes, weeks: Sequence[IsoWeek | str], min_size: int, *, at: dt.datetime | None = None
) -> list[WeekRelease]:
    """The weeks' releases, in the order asked, releasing any final week that is waiting first."""
    at = at or now()
    wanted = [str(week) for week in weeks]
    if not wanted:
        return []
    release_due(db, key, min_size, through=max(wanted), at=at)
    with db.session() as session:
        heads = {
            week: k
            for week, k in session.execute(select(Release.week, Release.min_group_size).where(Release.week.in_(wanted)))
        }
        closes = dict(session.execute(select(PulseRound.week, PulseRound.closes_at).where(PulseRound.week.in_(wanted))).all())
        figures = _figures(session, list(heads))
    result = []
    for week in wanted:
        if week in heads:
            result.append(WeekRelease(week, True, heads[week], figures.get(week, {})))
        else:
            # Final with no inputs at all: an empty week, released as such. Open: nothing yet.
            result.append(WeekRelease(week, final_at(week, closes.get(week)) <= at))
    return result


class _Figures(Mapping[tuple[str, str, str], Released]):
    """A week's figures as read, each made a `Released` only when asked for: a reader looks at a
    few of a past week's thousand figures, so the rest cost nothing."""

    def __init__(self, raw: dict[tuple[str, str, str], tuple[Any, Any, Any]]) -> None:
        self._raw = raw
        self._made: dict[tuple[str, str, str], Released] = {}

    def __getitem__(self, key: tuple[str, str, str]) -> Released:
        made = self._made.get(key)
        if made is None:
            people, total, counts = self._raw[key]
            made = self._made[key] = Released(int(people), float(total), counts or {})
        return made

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, key: object) -> bool:
        return key in self._raw


def _figures(session: Session, weeks: list[str]) -> dict[str, Mapping[tuple[str, str, str], Released]]:
    """The weeks' released figures, by week.

    On PostgreSQL each week comes back as one JSON array built by the server: a dozen weeks are a
    dozen rows to decode rather than thousands, so reading a window costs about the same whatever
    its weeks hold. SQLite's JSON functions print floats to 15 digits, so there rows are read as
    they are (exact either way).
    """
    figures: dict[str, Mapping[tuple[str, str, str], Released]] = {week: {} for week in weeks}
    if not weeks:
        return figures
    if session.get_bind().dialect.name == "postgresql":
        packed = func.json_agg(func.json_build_array(
            ReleasedFigure.measure, ReleasedFigure.scope, ReleasedFigure.label,
            ReleasedFigure.people, ReleasedFigure.total, ReleasedFigure.counts,
        ))
        for week, rows in session.execute(
            select(ReleasedFigure.week, packed).where(ReleasedFigure.week.in_(weeks)).group_by(ReleasedFigure.week)
        ):
            figures[week] = _Figures({(measure, scope, label): (people, total, counts) for measure, scope, label, people, total, counts in rows})
        return figures
    for week, measure, scope, label, people, total, counts in session.execute(
        select(ReleasedFigure.week, ReleasedFigure.measure, ReleasedFigure.scope, ReleasedFigure.label,
               ReleasedFigure.people, ReleasedFigure.total, ReleasedFigure.counts)
        .where(ReleasedFigure.week.in_(weeks))
    ):
        figures.setdefault(week, {})[(measure, scope, label)] = Released(int(people), float(total), counts or {})  # type: ignore[index]
    return figures


def explainer_totals(db: Database, through: str) -> dict[str, tuple[int, Released | None]]:
    """Per explainer, up to a week: people reached, and the first ratings of the weeks released.

    Both are sums of released weekly figures; a week whose ratings were too few adds nothing.
    """
    with db.session() as session:
        rows = session.execute(
            select(ReleasedFigure.measure, func.sum(ReleasedFigure.people), func.sum(ReleasedFigure.total))
            .where(ReleasedFigure.week <= through, ReleasedFigure.scope == ORG,
                   ReleasedFigure.measure.like("reach:%") | ReleasedFigure.measure.like("explainer:%"))
            .group_by(ReleasedFigure.measure)
        ).all()
    totals: dict[str, tuple[int, Released | None]] = {}
    for measure, people, total in sorted(rows):
        kind, _, explainer = measure.partition(":")
        reached, rated = totals.get(explainer, (0, None))
        if kind == "reach":
            totals[explainer] = (int(people), rated)
        else:
            totals[explainer] = (reached, Released(int(people), float(total)))
    return totals


# ---------------------------------------------------------------- the open week


@dataclass(frozen=True)
class Progress:
    """An open week's participation so far, counted once on `day`: label ("" the organisation)
    → (sent, answered), only for groups the participation rule allows."""

    week: str
    day: dt.date
    groups: Mapping[str, tuple[int, int]]


def progress(db: Database, key: bytes, week: str, min_size: int, *, at: dt.datetime | None = None) -> Progress:
    """The week's progress as counted today, counting it if nobody has yet today."""
    at = at or now()
    day = at.date()
    with db.session() as session:
        require_key(session, key)
        claimed = session.execute(
            conflict_insert(session, ProgressDay)
            .values(week=week, day=day)
            .on_conflict_do_nothing(index_elements=["week", "day"])
            .returning(ProgressDay.week)
        ).scalar()
        if claimed is not None:
            rows = [
                {"week": week, "day": day, "label": figure.label, "sent": figure.people, "answered": int(figure.total)}
                for figure in participation_figures(gather(session, key, week, pulse_only=True), min_size)
            ]
            if rows:
                session.execute(insert(ProgressFigure), rows)
    with db.session() as session:
        found = session.execute(
            select(ProgressFigure.label, ProgressFigure.sent, ProgressFigure.answered).where(
                ProgressFigure.week == week, ProgressFigure.day == day
            )
        ).all()
    return Progress(week, day, {label: (sent, answered) for label, sent, answered in found})


def weeks_before(week: IsoWeek, count: int) -> list[IsoWeek]:
    """`count` weeks ending with `week`, oldest first."""
    return [week.shifted(offset) for offset in range(-count + 1, 1)]
