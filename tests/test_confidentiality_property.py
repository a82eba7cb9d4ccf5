"""The whole pipeline, property-tested on both databases: no output determines a group under k.

Hypothesis draws small organisations (at most 40 people in at most 8 teams, a tree of depth 3 or
less) and two or three weeks of what people really did: answers, skips, hidden-work reports,
moves in the middle of a week, leavers, pauses, `/pulse forget`, rollouts and threshold changes.
`History` plays that plan through the public services on a real database and keeps, beside it,
the truth person by person. The tests then judge what the outputs show by that truth alone:

1. the reference model (tests/reference.py): every released figure and every number an output
   shows covers the people the truth says, sums what they gave, and nothing they show together
   determines anything about fewer than k people;
2. every output at every moment: a forget, a roster change, a rollout or a new threshold after a
   week's release changes nothing shown about that week, and the open week shows the same
   progress all day, whoever clicks;
3. a null-space twin: a second history that differs only where the release cannot see (answers
   swapped between people every released figure treats alike, minutes moved between reports
   every released figure adds together, any answer in the week still open) gives byte-identical
   outputs, with no parser involved;
4. the test of the test: deliberately leaky outputs kept here are caught by the same checker.

Weeks are in the past, so nothing here waits for the clock; every service call gets an explicit
`at`, and exports are asked only for weeks already released, so the wall clock changes nothing.
The chart is replaced by its series (compared as text), the rest of every output is the product's.

Examples per test are chosen by database (an example costs about 0.25 s on SQLite, three times
that on PostgreSQL); PULSE_PROPERTY_SCALE=10 runs ten times as many. The known attacks are
`@example`s on SQLite and run once each on both databases in
`test_each_known_attack_is_withheld_and_its_leaky_output_is_caught`.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import io
import math
import os
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from bot.db import Base, Database
from bot.demo import MemoryMessenger
from bot.explainers.library import Library, load_library
from bot.labour.categories import category_name
from bot.labour.service import log_hidden_work
from bot.models import REPORT_MAX_MINUTES, Manager, Person, PulseRound, Team
from bot.release.families import HIDDEN, LEVEL, ORG, PARTICIPATION, TEAM, question_measure
from bot.release.service import Released, WeekRelease, final_at, progress, released, weeks_before
from bot.reports import readings
from bot.reports.digest import build_digest
from bot.reports.digest_model import Digest
from bot.reports.export import KINDS, export
from bot.reports.readings import ORGANISATION, OTHER_TEAMS
from bot.reports.render import render_digest
from bot.reports.summary import GroupSummary, team_summaries
from bot.rights import forget
from bot.rollouts.service import add_rollout
from bot.settings import Behaviour, Question, QuestionBank, load_behaviour
from bot.surveys.service import pause, record_answer, run_pulse_job, skip_week
from bot.weeks import UTC, IsoWeek
from tests import factories
from tests.reference import determined_small_group

KEY: Final = b"confidentiality-property-key-0123456789"
FIRST: Final = IsoWeek.parse("2026-W40")
# Team figures (capability), a level breakdown (clarity) and a rate (rework): the three shapes a
# question's figures take. Clicks are what an example costs, so no fourth question of a known shape.
ASKED: Final = ("capability", "clarity", "rework")
CATEGORIES: Final = ("validation", "prompting", "cleanup")
LEVELS: Final = ("entry", "experienced", "lead")
TEAM_NAMES: Final = "ABCDEFGH"
ROSTER_EVENTS: Final = frozenset({"move", "leave", "pause", "forget", "rollout", "threshold"})
# A rate's mark on the question's own scale, as the question bank words it: rework "Often" (3) or
# "Always" (4). Written here, not imported, so the truth does not borrow the product's constants.
FLAGGED_AT: Final = {"rework": 3.0}
MINUTES: Final = (1, 15, 30, 45, 60, 90, 120, 240, 480)


@functools.cache
def behaviour(k: int) -> Behaviour:
    """The questions of ASKED and the comment, all asked every week; threshold `k`."""
    bank = load_behaviour(None).questions
    closed = [q.model_dump() for q in (*bank.core, *bank.rotating) if q.key in ASKED]
    free_text = [q.model_dump() for q in bank.core if q.kind == "text"]
    questions = QuestionBank.model_validate({"core": [*closed, *free_text]})
    return load_behaviour(None).model_copy(update={"questions": questions, "min_group_size": k})


BASE_RULES: Final = behaviour(3)
QUESTIONS: Final[dict[str, Question]] = {q.key: q for q in BASE_RULES.questions.core if q.key in ASKED}
LIBRARY: Final[Library] = load_library()


def week_of(index: int) -> IsoWeek:
    return FIRST.shifted(index)


def moment(week: IsoWeek, weekday: int, hour: int, minutes: int = 0) -> dt.datetime:
    """`hour` o'clock UTC on ISO `weekday` of `week`, plus `minutes`: steps are a minute apart."""
    return dt.datetime.combine(week.day(weekday), dt.time(hour), tzinfo=UTC) + dt.timedelta(minutes=minutes)


# ================================================================ the plan: what people do


@dataclass(frozen=True)
class Step:
    """One thing someone does. Which fields matter depends on `kind`."""

    kind: str  # answer, skip, log, move, leave, pause, forget, rollout, threshold
    uid: str = ""
    question: str = ""
    option: int = 0
    category: str = ""
    minutes: int = 0
    share: bool = False
    team: str = ""
    teams: tuple[str, ...] = ()
    k: int = 0
    name: str = ""


@dataclass(frozen=True)
class WeekPlan:
    before: tuple[Step, ...] = ()  # Monday afternoon, after last week's release, before the round
    tuesday: tuple[Step, ...] = ()  # the round opens Tuesday 10:00
    thursday: tuple[Step, ...] = ()
    closes: bool = True  # released at final_at; False leaves the last week open


@dataclass(frozen=True)
class Plan:
    k: int
    teams: tuple[str, ...]
    people: tuple[tuple[str, str, str | None], ...]  # (user id, team, level)
    managers: tuple[tuple[str, str], ...]  # (user id, team managed)
    council: str | None
    weeks: tuple[WeekPlan, ...]


Loc = tuple[int, str, int]  # (week index, "tuesday" or "thursday", step index)
DAYS: Final = ("tuesday", "thursday")


# ================================================================ the truth, and playing a plan


@dataclass
class WeekTruth:
    """One week as it really was, person by person."""

    week: str
    team: dict[str, str] = field(default_factory=dict)  # the snapshot taken as the round opened
    level: dict[str, str | None] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    responses: dict[str, bool] = field(default_factory=dict)  # user id → skipped
    answers: dict[str, dict[str, int]] = field(default_factory=dict)  # user id → question → option index
    hidden: dict[str, dict[str, list[tuple[int, Loc]]]] = field(default_factory=dict)  # → category → reports
    shared: set[Loc] = field(default_factory=set)  # reports shown to the author's managers by name
    k: int | None = None  # the threshold it was released with

    @property
    def answered(self) -> set[str]:
        return {uid for uid, skipped in self.responses.items() if not skipped}

    def value(self, uid: str, key: str) -> float:
        return float(QUESTIONS[key].options[self.answers[uid][key]].value)

    def minutes(self, uid: str, category: str) -> int:
        return sum(m for m, _ in self.hidden[uid][category])

    def anonymous(self, uid: str, category: str) -> bool:
        """Whether some of these minutes were logged without a name: unknown even to a manager."""
        return any(loc not in self.shared for _, loc in self.hidden[uid][category])


class Hooks:
    """What a test wants to see while a history plays; the default sees nothing."""

    def before(self, run: History, at: dt.datetime, step: Step) -> None: ...

    def after(self, run: History, at: dt.datetime, step: Step) -> None: ...

    def probe(self, run: History, label: str, at: dt.datetime) -> None: ...


class History:
    """A plan played through the public services (or, with `db` None, only into the truth).

    What may happen is decided from the truth alone, so a dry run and a real one agree: a
    leaver clicks nothing more, someone the pulse did not reach (paused, or gone before the
    round) answers nothing.
    """

    def __init__(self, plan: Plan, db: Database | None, hooks: Hooks | None = None) -> None:
        self.plan, self.db, self.hooks = plan, db, hooks or Hooks()
        self.k = plan.k
        self.team = {uid: team for uid, team, _ in plan.people}
        self.level = {uid: level for uid, _, level in plan.people}
        self.active = {uid: True for uid, _, _ in plan.people}
        self.paused: set[tuple[str, str]] = set()
        self.weeks: dict[str, WeekTruth] = {}
        self.releases: dict[str, WeekRelease] = {}
        self.rounds: dict[str, int] = {}
        self.rollouts: dict[str, tuple[str, ...]] = {}
        self.current: str | None = None
        self.done = 0  # steps, rounds and releases so far: outputs can only change when it moves
        self.protected = {uid for uid, _ in plan.managers} | ({plan.council} if plan.council else set())

    @property
    def rules(self) -> Behaviour:
        return behaviour(self.k)

    @property
    def viewers(self) -> list[str]:
        return sorted({uid for uid, _ in self.plan.managers} | ({self.plan.council} if self.plan.council else set()))

    @property
    def released_weeks(self) -> list[str]:
        return sorted(self.releases)

    def play(self) -> History:
        self._setup(moment(FIRST, 1, 9))
        for index, week_plan in enumerate(self.plan.weeks):
            week = week_of(index)
            for n, step in enumerate(week_plan.before):
                self._do(step, moment(week, 1, 14, n), None)
            self._open(week, moment(week, 2, 10))
            # Clicks on Tuesday (the round opened at 10:00) and on Thursday. The open week's outputs
            # are looked at before Tuesday's first click and after its last (one day, one count),
            # and before Thursday's first (a new day's count, of everything Tuesday did).
            for day, weekday in (("tuesday", 2), ("thursday", 4)):
                self.hooks.probe(self, f"{week} {day} early", moment(week, 2, 10, 1) if weekday == 2 else moment(week, 4, 0, 30))
                for n, step in enumerate(getattr(week_plan, day)):
                    self._do(step, moment(week, weekday, 10, 5 + n), (index, day, n))
                if weekday == 2:
                    self.hooks.probe(self, f"{week} {day} late", moment(week, weekday, 23))
            if week_plan.closes:
                self._release(week)
            else:
                break  # an open week is the last one
        return self

    @property
    def end(self) -> dt.datetime:
        """A moment after everything: the open week's Saturday, or just after the last release."""
        last = week_of(len(self.weeks) - 1)
        if str(last) in self.releases:
            return final_at(str(last)) + dt.timedelta(hours=1)
        return moment(last, 6, 12)

    # ------------------------------------------------------------ playing

    def _setup(self, at: dt.datetime) -> None:
        """The roster as an import leaves it (tests/factories.py, in one transaction: on
        PostgreSQL a transaction per person would cost more than the week's clicks)."""
        if self.db is None:
            return
        for path in self.plan.teams:
            factories.team(self.db, path)
        with self.db.session() as session:
            team_ids: dict[str, int] = {path: team_id for path, team_id in session.execute(select(Team.path, Team.id))}
            people = {
                uid: Person(slack_user_id=uid, team_id=team_ids[team], tz="UTC", level=level, away=False,
                            is_council=uid == self.plan.council, active=True)
                for uid, team, level in self.plan.people
            }
            session.add_all(people.values())
            session.flush()
            session.add_all(Manager(person_id=people[uid].id, team_id=team_ids[team]) for uid, team in self.plan.managers)

    def _open(self, week: IsoWeek, at: dt.datetime) -> None:
        name = str(week)
        truth = self.weeks[name] = WeekTruth(name)
        for uid, active in self.active.items():
            if active:
                truth.team[uid], truth.level[uid] = self.team[uid], self.level[uid]
                if (uid, name) not in self.paused:
                    truth.sent.add(uid)
        self.current = name
        self.done += 1
        if self.db is None:
            return
        run_pulse_job(self.db, MemoryMessenger(), self.rules, at=at, force=True, week=week)
        with self.db.session() as session:
            self.rounds[name] = session.scalars(select(PulseRound.id).where(PulseRound.week == name)).one()

    def _release(self, week: IsoWeek) -> None:
        name = str(week)
        self.weeks[name].k = self.k
        self.done += 1
        if self.db is not None:
            [found] = released(self.db, KEY, [week], self.k, at=final_at(name))
            assert found.released and found.min_group_size == self.k
            self.releases[name] = found
        else:
            self.releases[name] = WeekRelease(name, True, self.k)
        self.current = None

    def allowed(self, step: Step) -> bool:
        if step.kind in ("answer", "skip"):
            truth = self.weeks.get(self.current or "")
            return truth is not None and self.active[step.uid] and step.uid in truth.sent
        if step.kind in ("log", "move", "pause"):
            return self.active[step.uid] and (step.kind != "log" or self.current is not None)
        if step.kind == "leave":
            return self.active[step.uid] and step.uid not in self.protected
        if step.kind == "rollout":
            return step.name not in self.rollouts and bool(step.teams)
        return True

    def _do(self, step: Step, at: dt.datetime, loc: Loc | None) -> None:
        if not self.allowed(step):
            return
        watched = step.kind in ROSTER_EVENTS and bool(self.releases)
        if watched:
            self.hooks.before(self, at, step)
        getattr(self, f"_{step.kind}")(step, at, loc)
        self.done += 1
        if watched:
            self.hooks.after(self, at, step)

    def _answer(self, step: Step, at: dt.datetime, loc: Loc | None) -> None:
        truth = self.weeks[self.current or ""]
        truth.responses[step.uid] = False
        truth.answers.setdefault(step.uid, {})[step.question] = step.option
        if self.db is not None:
            record_answer(self.db, KEY, step.uid, self.rounds[truth.week], step.question, step.option, at=at)

    def _skip(self, step: Step, at: dt.datetime, loc: Loc | None) -> None:
        truth = self.weeks[self.current or ""]
        truth.responses[step.uid] = True
        truth.answers.pop(step.uid, None)  # a skip removes the answers given so far
        if self.db is not None:
            skip_week(self.db, KEY, step.uid, self.rounds[truth.week], at=at)

    def _log(self, step: Step, at: dt.datetime, loc: Loc | None) -> None:
        assert loc is not None
        truth = self.weeks[self.current or ""]
        truth.hidden.setdefault(step.uid, {}).setdefault(step.category, []).append((step.minutes, loc))
        if step.share:
            truth.shared.add(loc)
        if self.db is not None:
            log_hidden_work(self.db, KEY, step.uid, minutes=step.minutes, category=step.category,
                            share_with_manager=step.share, at=at)

    def _move(self, step: Step, at: dt.datetime, loc: Loc | None) -> None:
        self.team[step.uid] = step.team  # the week's snapshot keeps the old team
        if self.db is not None:
            team_id = factories.team(self.db, step.team)
            with self.db.session() as session:
                session.execute(update(Person).where(Person.slack_user_id == step.uid).values(team_id=team_id))

    def _leave(self, step: Step, at: dt.datetime, loc: Loc | None) -> None:
        self.active[step.uid] = False
        if self.db is not None:
            with self.db.session() as session:
                session.execute(update(Person).where(Person.slack_user_id == step.uid).values(active=False))

    def _pause(self, step: Step, at: dt.datetime, loc: Loc | None) -> None:
        # One week from Monday: through Sunday, so this week's round does not reach them.
        self.paused.add((step.uid, str(IsoWeek.of(at.date()))))
        if self.db is not None:
            pause(self.db, step.uid, 1, at=at)

    def _forget(self, step: Step, at: dt.datetime, loc: Loc | None) -> None:
        # Raw data goes; a week already released keeps its figures (and so its truth).
        for name, truth in self.weeks.items():
            if name not in self.releases:
                truth.responses.pop(step.uid, None)
                truth.answers.pop(step.uid, None)
                truth.hidden.pop(step.uid, None)
        if self.db is not None:
            forget(self.db, KEY, step.uid)

    def _rollout(self, step: Step, at: dt.datetime, loc: Loc | None) -> None:
        self.rollouts[step.name] = tuple(sorted(step.teams))
        if self.db is not None:
            add_rollout(self.db, step.name, IsoWeek.of(at.date()).monday, step.teams, at=at)

    def _threshold(self, step: Step, at: dt.datetime, loc: Loc | None) -> None:
        self.k = step.k  # applies to the weeks released from now on


def empty(db: Database) -> None:
    """Every table emptied: one example, one organisation. DELETE rather than TRUNCATE, which on
    PostgreSQL costs tens of milliseconds for tables this small; ids are never shown, so the
    sequences need not restart."""
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


# ================================================================ the reference model


def within(path: str, team: str) -> bool:
    return path == team or path.startswith(team + "/")


def outermost(paths: Iterable[str]) -> list[str]:
    chosen = sorted(set(paths))
    return [p for p in chosen if not any(p != q and p.startswith(q + "/") for q in chosen)]


def family(measure: str) -> str:
    """Measures some released figure adds together are judged together."""
    return HIDDEN if measure == HIDDEN or measure.startswith(HIDDEN + ":") else measure


# A manager sees the reports shared with them by name: for them, hidden work's unknowns are only
# the minutes logged anonymously, and the figures must not determine a small group of those either.
KNOWING_SHARED: Final = "hidden, with the reports shared for credit known"


def readers(truth: WeekTruth, measure: str, cells: frozenset[Hashable]) -> list[tuple[str, frozenset[Hashable]]]:
    """The families a figure over these unknowns is judged in, with the unknowns each reader lacks."""
    if family(measure) != HIDDEN:
        return [(family(measure), cells)]
    return [(HIDDEN, cells), (KNOWING_SHARED, frozenset(c for c in cells if truth.anonymous(*c)))]  # type: ignore[misc]


def members(truth: WeekTruth, scope: str, label: str) -> set[str]:
    if scope == ORG:
        return set(truth.team)
    if scope == LEVEL:
        return {uid for uid in truth.team if truth.level[uid] == label}
    return {uid for uid, team in truth.team.items() if within(team, label)}


def unknowns(truth: WeekTruth, measure: str, people: Iterable[str]) -> frozenset[Hashable]:
    """The unknowns a figure over these people sums: a person, or (person, category)."""
    people = set(people)
    if measure == PARTICIPATION:
        return frozenset(people & truth.sent)
    if measure.startswith("q:"):
        key = measure.removeprefix("q:")
        return frozenset(uid for uid in people if key in truth.answers.get(uid, {}))
    wanted = measure.partition(":")[2]
    return frozenset(
        (uid, category) for uid in people for category in truth.hidden.get(uid, {})
        if truth.hidden[uid][category] and (not wanted or category == wanted)
    )


def value(truth: WeekTruth, measure: str, unknown: Hashable) -> float:
    if measure == PARTICIPATION:
        return 1.0 if unknown in truth.answered else 0.0
    if measure.startswith("q:"):
        assert isinstance(unknown, str)
        return truth.value(unknown, measure.removeprefix("q:"))
    assert isinstance(unknown, tuple)
    return float(truth.minutes(*unknown))


def owners(cells: Iterable[Hashable]) -> set[Hashable]:
    return {u[0] if isinstance(u, tuple) else u for u in cells}


def option_key(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def indicators(measure: str, values: Sequence[float]) -> dict[str, Any]:
    """The indicator counts a question's figure carries, worked out from the truth."""
    if not measure.startswith("q:"):
        return {}
    question = QUESTIONS[measure.removeprefix("q:")]
    counts: dict[str, Any] = {"options": {option_key(o.value): sum(1 for v in values if v == o.value) for o in question.options}}
    if question.favourable_at_least is not None:
        counts["favourable"] = sum(1 for v in values if v >= question.favourable_at_least)
    if question.key in FLAGGED_AT:
        counts["flagged"] = sum(1 for v in values if v >= FLAGGED_AT[question.key])
    return counts


@dataclass(frozen=True)
class Claim:
    """A number an output shows, and which group of which week and measure it says it is about.

    `group`: "Organisation", a team path, "Other teams", "level: X", or a tuple of team paths (a
    rollout: the sum of its teams' released figures). Numbers are as shown; `tolerance` is the
    rounding of the shown mean or share (a total is compared within `total_tolerance`).
    """

    source: str
    week: str
    measure: str
    group: str | tuple[str, ...]
    people: int | None = None
    total: float | None = None
    mean: float | None = None
    share: tuple[str, float] | None = None
    tolerance: float = 1e-9
    total_tolerance: float = 1e-9


class Leak(AssertionError):
    """What the checker found: the problems, one a line."""


@dataclass
class Resolved:
    """A claim's group, as the release names it (a registered figure) or derives it."""

    cells: frozenset[Hashable]  # the unknowns, from the truth
    figure: Released | None  # what the release says about the same group (None: nothing does)


def resolve(truth: WeekTruth, release: WeekRelease, measure: str, group: str | tuple[str, ...]) -> Resolved:
    teams = release.labels(measure, TEAM)
    if isinstance(group, tuple):  # a rollout: each named team's figure, else its released descendants
        parts: list[str] = []
        for root in outermost(group):
            parts += [root] if root in teams else outermost(t for t in teams if t.startswith(root + "/"))
        cells = frozenset().union(*(unknowns(truth, measure, members(truth, TEAM, p)) for p in parts))
        figure = None
        for part in parts:
            found = release.team(measure, part)
            assert found is not None
            figure = found if figure is None else figure + found
        return Resolved(cells, figure)
    if group == OTHER_TEAMS:  # the documented derivation: the organisation less its outermost released teams
        whole = release.get(measure)
        inside = [release.team(measure, t) for t in outermost(teams)]
        cells = unknowns(truth, measure, members(truth, ORG, ""))
        for team in outermost(teams):
            cells -= unknowns(truth, measure, members(truth, TEAM, team))
        if whole is None:
            return Resolved(cells, None)
        people = whole.people - sum(f.people for f in inside if f)
        total = whole.total - sum(f.total for f in inside if f)
        return Resolved(cells, Released(people, total))
    if group == ORGANISATION:
        scope, label = ORG, ""
    elif group.startswith("level: "):
        scope, label = LEVEL, group.removeprefix("level: ")
    else:
        scope, label = TEAM, group
    return Resolved(unknowns(truth, measure, members(truth, scope, label)), release.get(measure, scope, label))


def judge(
    weeks: Mapping[str, WeekTruth],
    releases: Mapping[str, WeekRelease],
    claims: Iterable[Claim] = (),
    *,
    registered_only: bool = True,
) -> None:
    """Raise `Leak` unless every released figure and every claim agrees with the truth and nothing
    they determine together is about 1 to k-1 people (k: the week's own, as released).

    With `registered_only` a claim must be a released figure or a stated derivation of released
    figures and show the same numbers; without it only the truth and the reference model judge,
    which is how a leaky output is shown to be caught by the model itself, not just by the list.
    """
    problems: list[str] = []
    rows: dict[tuple[str, str], list[frozenset[Hashable]]] = {}
    for name, release in releases.items():
        truth = weeks[name]
        for (measure, scope, label), figure in release.figures.items():
            if measure.startswith(("reach:", "explainer:")):
                continue
            cells = unknowns(truth, measure, members(truth, scope, label))
            shown = f"{name} {measure} {scope}:{label}"
            if figure.people != len(owners(cells)):
                problems.append(f"{shown}: {figure.people} people released, the truth has {len(owners(cells))}")
            values = [value(truth, measure, c) for c in cells]
            if not math.isclose(figure.total, sum(values), abs_tol=1e-9):
                problems.append(f"{shown}: total {figure.total} released, the truth sums to {sum(values)}")
            if measure.startswith("q:") and dict(figure.counts) != indicators(measure, values):
                problems.append(f"{shown}: counts {dict(figure.counts)}, the truth has {indicators(measure, values)}")
            for reader, unknown in readers(truth, measure, cells):
                rows.setdefault((name, reader), []).append(unknown)
    for claim in claims:
        release, truth = releases.get(claim.week), weeks.get(claim.week)
        shown = f"{claim.source}: {claim.week} {claim.measure} {claim.group!r}"
        if truth is None:
            problems.append(f"{shown}: a week with no truth")
            continue
        if release is None:
            if registered_only:
                problems.append(f"{shown}: the week is not released")
                continue
            release = WeekRelease(claim.week, False)
        resolved = resolve(truth, release, claim.measure, claim.group)
        values = [value(truth, claim.measure, c) for c in resolved.cells]
        true = Released(len(owners(resolved.cells)), sum(values), indicators(claim.measure, values))
        if registered_only:
            if resolved.figure is None:
                problems.append(f"{shown}: neither a released figure nor a stated derivation")
            elif not agrees(claim, resolved.figure):
                problems.append(f"{shown}: shows {claim}, the release has {resolved.figure}")
        if true.people == 0:
            problems.append(f"{shown}: a figure over nobody")
        elif not agrees(claim, true):
            problems.append(f"{shown}: shows {claim}, the truth is {true}")
        if resolved.cells:
            for reader, unknown in readers(truth, claim.measure, resolved.cells):
                rows.setdefault((claim.week, reader), []).append(unknown)
    for (name, measure_family), figures in sorted(rows.items(), key=lambda item: item[0]):
        k = weeks[name].k or releases[name].min_group_size or 3
        small = determined_small_group(figures, k)
        if small is not None:
            problems.append(f"{name} {measure_family}: the figures shown determine a sum over {sorted(small, key=repr)} (k={k})")
    if problems:
        raise Leak("\n".join(problems))


def agrees(claim: Claim, figure: Released) -> bool:
    if claim.people is not None and claim.people != figure.people:
        return False
    if claim.total is not None and not math.isclose(claim.total, figure.total, abs_tol=claim.total_tolerance):
        return False
    if claim.mean is not None and (figure.people == 0 or abs(claim.mean - figure.mean) > claim.tolerance + 1e-9):
        return False
    if claim.share is not None:
        share = figure.share(claim.share[0])
        if share is None or abs(claim.share[1] - share) > claim.tolerance + 1e-9:
            return False
    return True


# ================================================================ outputs, as texts and as claims


def chart_stub(
    weeks: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    asked: Mapping[str, Sequence[bool]] | None = None,
    go_lives: Sequence[tuple[str, str]] = (),
    questions: Mapping[str, tuple[str, str]] | None = None,
) -> bytes:
    """The chart's data instead of its PNG: the series are compared, matplotlib is not timed."""
    flags = sorted((k, list(v)) for k, v in (asked or {}).items())
    return repr((list(weeks), sorted((k, list(v)) for k, v in series.items()), title, flags, list(go_lives))).encode()


@dataclass
class Outputs:
    texts: dict[str, str] = field(default_factory=dict)  # what a reader sees, output by output
    claims: list[Claim] = field(default_factory=list)  # every number of it, as the figure it says it is


def observe(
    run: History, at: dt.datetime, tmp: Path, *, rollouts: Iterable[str] | None = None
) -> Outputs:
    """Everything a reader can see at `at`: every export kind over every released week, the
    digest of every week begun, every viewer's summary. `rollouts`: show only these rollouts'
    lines (a rollout added later adds lines about itself, judged as claims, nothing else)."""
    assert run.db is not None
    seen = Outputs()
    rules = run.rules
    if run.released_weeks:
        last = IsoWeek.parse(run.released_weeks[-1])
        window = last.ordinal - FIRST.ordinal + 1  # every week of the history
        for kind in KINDS:
            out = tmp / f"{kind}.csv"
            export(run.db, rules, KEY, kind, out, until=last, weeks=window)
            content = out.read_text(encoding="utf-8")
            seen.texts[f"export {kind}"] = content
            seen.claims += export_claims(kind, content)
    for name in sorted(run.weeks):
        digest, chart = build_digest(run.db, rules, LIBRARY, IsoWeek.parse(name), KEY, at=at)
        if rollouts is not None:
            digest = dataclasses.replace(digest, rollouts=tuple(r for r in digest.rollouts if r.name in set(rollouts)))
        seen.texts[f"digest {name}"] = render_digest(digest) + "\n" + (chart or b"").decode()
        if not digest.open_week:
            seen.claims += digest_claims(run, digest)
    span = IsoWeek.of(at.date()).ordinal - FIRST.ordinal + 1
    for uid in run.viewers:
        summaries = team_summaries(run.db, rules, KEY, uid, None, span, at=at)
        seen.texts[f"summary {uid}"] = repr(summaries)
        seen.claims += summary_claims(uid, summaries, run.released_weeks)
    return seen


def export_claims(kind: str, content: str) -> list[Claim]:
    """Every export row as the figure it says it is: group and count, and the numbers shown."""
    claims: list[Claim] = []
    for n, row in enumerate(csv.DictReader(io.StringIO(content)), start=2):
        source = f"export {kind} line {n}"
        week, group = row["week"], row["group"]
        if kind == "participation":
            claims.append(Claim(source, week, PARTICIPATION, group, int(row["sent"]), float(row["answered"]),
                                mean=float(row["response_rate"]), tolerance=0.005))
        elif kind == "scores":
            share = ("favourable", float(row["favourable_share"])) if row["favourable_share"] else None
            if share is None and row["rate_share"]:
                share = ("flagged", float(row["rate_share"]))
            claims.append(Claim(source, week, question_measure(row["question"]), group, int(row["answered"]),
                                mean=float(row["mean"]) if row["mean"] else None, share=share, tolerance=0.005))
        else:
            claims.append(Claim(source, week, HIDDEN, group, int(row["reporters"]), float(row["hours"]) * 60,
                                total_tolerance=3.0))
            for category in CATEGORIES:
                shown = row[category_name(category)]
                if shown:
                    claims.append(Claim(source, week, f"{HIDDEN}:{category}", group, total=float(shown) * 60,
                                        total_tolerance=3.0))
    return claims


def digest_claims(run: History, digest: Digest) -> list[Claim]:
    """The digest's numbers, field by field (the rendered text is compared whole by the twins)."""
    week, source = digest.week, f"digest {digest.week}"
    claims: list[Claim] = []
    if digest.sent is not None:
        claims.append(Claim(source, week, PARTICIPATION, ORGANISATION, digest.sent, digest.responded,
                            mean=digest.response_rate))
    if digest.rate_change is not None and digest.response_rate is not None:  # against last week's released rate
        claims.append(Claim(f"{source} change", str(IsoWeek.parse(week).shifted(-1)), PARTICIPATION, ORGANISATION,
                            mean=digest.response_rate - digest.rate_change, tolerance=1e-9))
    for score in digest.scores:
        history = weeks_before(IsoWeek.parse(week), len(score.series))
        claims.append(Claim(source, week, question_measure(score.key), ORGANISATION, mean=score.mean,
                            share=None if score.favourable is None else ("favourable", score.favourable)))
        for past, mean in zip(history, score.series):
            if mean is not None:  # a trend point is the week's own released mean
                claims.append(Claim(f"{source} trend", str(past), question_measure(score.key), ORGANISATION, mean=mean))
        if score.change is not None:
            assert score.series[-2] is not None and math.isclose(score.change, score.mean - score.series[-2], abs_tol=1e-9)
    if digest.rework_rate is not None:
        claims.append(Claim(source, week, question_measure("rework"), ORGANISATION, share=("flagged", digest.rework_rate)))
    by_name = {category_name(c): c for c in CATEGORIES}
    for label, hours in digest.hidden_hours:
        claims.append(Claim(source, week, f"{HIDDEN}:{by_name[label]}", ORGANISATION, total=hours * 60))
    for line in digest.groups:
        claims.append(Claim(source, week, PARTICIPATION, line.label, total=line.responded, mean=line.response_rate))
        if line.capability is not None:
            claims.append(Claim(source, week, question_measure("capability"), line.label, mean=line.capability))
        if line.hidden_hours is not None:
            claims.append(Claim(source, week, HIDDEN, line.label, total=line.hidden_hours * 60))
    for level in digest.clarity_by_level:
        share = None if level.favourable is None else ("favourable", level.favourable)
        claims.append(Claim(source, week, question_measure("clarity"), f"level: {level.level}", mean=level.mean, share=share))
    for question in digest.questions:  # each from its own (latest) week
        if question.week is None:
            continue
        share = ("favourable", question.favourable) if question.favourable is not None else (
            ("flagged", question.rate[1]) if question.rate is not None else None)
        claims.append(Claim(source, question.week, question_measure(question.key), ORGANISATION, question.people,
                            mean=question.mean, share=share))
    release = run.releases[week]
    for line in digest.rollouts:
        teams = run.rollouts[line.name]
        # The line's reading is the sum of its teams' released figures, for each measure it reads.
        for measure in (PARTICIPATION, question_measure("capability")):
            found, left_out = readings.covered(release, measure, teams)
            if found is not None:
                claims.append(Claim(f"{source} rollout {line.name}", week, measure, teams, found.people, found.total))
        # It names the teams it could not count by their own figure (sub-teams may stand in).
        expected = [root for root in outermost(teams) if root not in release.labels(question_measure("capability"), TEAM)]
        if list(line.left_out) != expected:
            raise Leak(f"{source} rollout {line.name}: says it left out {line.left_out}, the release leaves out {expected}")
    return claims


def summary_claims(uid: str, summaries: Sequence[GroupSummary], released_weeks: Sequence[str]) -> list[Claim]:
    claims: list[Claim] = []
    for summary in summaries:
        # The sub-teams it lists are teams the latest released week shows.
        claims += [Claim(f"summary {uid} {summary.label} sub-team", released_weeks[-1], PARTICIPATION, sub)
                   for sub in summary.sub_teams if released_weeks]
        for line in summary.weeks:
            if line.open or not line.shown:
                continue
            source = f"summary {uid} {summary.label}"
            claims.append(Claim(source, line.week, PARTICIPATION, summary.label, total=line.responded, mean=line.response_rate))
            for key in ("capability",):
                mean = getattr(line, key)
                if mean is not None:
                    claims.append(Claim(source, line.week, question_measure(key), summary.label, mean=mean))
            if line.hidden_hours is not None:
                claims.append(Claim(source, line.week, HIDDEN, summary.label, total=line.hidden_hours * 60))
    return claims


# ================================================================ generators aimed at the known shapes


@st.composite
def roster_steps(
    draw: st.DrawFn, people: Sequence[str], teams: Sequence[str], label: str, *, between: bool, most: int
) -> list[Step]:
    """Moves, leavers and forgets; between weeks also pauses, rollouts and new thresholds."""
    kinds = ["move", "leave", "forget", *(["pause", "rollout", "rollout", "threshold"] if between else [])]
    steps: list[Step] = []
    for n in range(draw(st.integers(0, most))):
        kind = draw(st.sampled_from(kinds))
        if kind == "rollout":
            named = draw(st.lists(st.sampled_from(teams), min_size=1, max_size=2, unique=True))
            steps.append(Step("rollout", name=f"Rollout {label}{n}", teams=tuple(named)))
        elif kind == "threshold":
            steps.append(Step("threshold", k=draw(st.sampled_from([3, 4, 5]))))
        else:
            steps.append(Step(kind, uid=draw(st.sampled_from(people)), team=draw(st.sampled_from(teams))))
    return steps


@st.composite
def week_plans(
    draw: st.DrawFn, people: Sequence[str], teams: Sequence[str], index: int, last: bool, events: int
) -> WeekPlan:
    before = draw(roster_steps(people, teams, f"{index}", between=True, most=events))
    # Per question: everyone who answers answers it, only one or two of them do, or some do.
    modes = {key: draw(st.sampled_from(["all", "few", "some"])) for key in ASKED}
    order = draw(st.permutations(people))
    clicks: list[Step] = []
    later: list[Step] = []
    few_left = {key: draw(st.integers(1, 2)) for key in ASKED}
    for uid in order:
        profile = draw(st.sampled_from(["answer", "answer", "answer", "silent", "skip", "answer-skip", "skip-answer", "change"]))
        if profile in ("silent", "skip"):
            clicks += [Step("skip", uid=uid)] if profile == "skip" else []
            continue
        chosen: list[Step] = []
        for key in ASKED:
            if modes[key] == "all" or (modes[key] == "few" and few_left[key] > 0) or (modes[key] == "some" and draw(st.booleans())):
                few_left[key] -= 1
                chosen.append(Step("answer", uid=uid, question=key, option=draw(st.integers(0, len(QUESTIONS[key].options) - 1))))
        if not chosen:
            chosen = [Step("answer", uid=uid, question="capability", option=draw(st.integers(0, 4)))]
        clicks += ([Step("skip", uid=uid)] if profile == "skip-answer" else []) + chosen
        if profile == "answer-skip":
            later.append(Step("skip", uid=uid))
        elif profile == "change":
            again = chosen[draw(st.integers(0, len(chosen) - 1))]
            options = len(QUESTIONS[again.question].options)
            later.append(dataclasses.replace(again, option=(again.option + draw(st.integers(1, options - 1))) % options))
    steps = clicks + later
    # Hidden work: a few loggers, some in several categories, some sharing a report for credit.
    for uid in draw(st.lists(st.sampled_from(people), max_size=4)):
        for _ in range(draw(st.integers(1, 3))):
            log = Step("log", uid=uid, category=draw(st.sampled_from(CATEGORIES)), minutes=draw(st.sampled_from(MINUTES)),
                       share=draw(st.booleans()))
            steps.insert(draw(st.integers(0, len(steps))), log)
    for roster_event in draw(roster_steps(people, teams, f"{index}", between=False, most=events)):
        steps.insert(draw(st.integers(0, len(steps))), roster_event)
    split = draw(st.integers(0, len(steps)))
    closes = True if not last else draw(st.sampled_from([True, True, True, False]))
    return WeekPlan(tuple(before), tuple(steps[:split]), tuple(steps[split:]), closes)


@st.composite
def plans(draw: st.DrawFn, events: int = 2) -> Plan:
    """A small organisation: teams of 1 to k+1 people (or none), a tree of depth 3 at most, and
    up to `events` roster events before each week's round and as many during it."""
    k = draw(st.sampled_from([3, 3, 3, 3, 4, 5]))
    teams: list[str] = []
    for n in range(draw(st.integers(1, 8))):
        parent = draw(st.sampled_from([None, *[t for t in teams if t.count("/") < 2]]))
        teams.append(TEAM_NAMES[n] if parent is None else f"{parent}/{TEAM_NAMES[n]}")
    people: list[tuple[str, str, str | None]] = []
    for path in teams:
        size = draw(st.integers(0, k + 1))
        one_level = draw(st.sampled_from([*LEVELS, None]))  # None: a team of mixed levels
        for n in range(size):
            level = one_level if one_level is not None else draw(st.sampled_from([*LEVELS, None]))
            people.append((f"U{path[-1]}{n}", path, level))
    # At least k people, so the organisation itself can be shown; tiny teams stay tiny.
    people = people[:40]
    people += [(f"UX{n}", teams[0], "entry") for n in range(max(0, k - len(people)))]
    uids = [uid for uid, _, _ in people]
    managers = tuple(sorted({(draw(st.sampled_from(uids)), draw(st.sampled_from(teams))) for _ in range(draw(st.integers(1, 2)))}))
    council = draw(st.sampled_from([None, *uids]))
    count = draw(st.sampled_from([2, 2, 3]))
    weeks = tuple(draw(week_plans(uids, teams, n, n == count - 1, events)) for n in range(count))
    return Plan(k, tuple(teams), tuple(people), managers, council, weeks)


# ---------------------------------------------------------------- the known attacks, as plans


def everyone_answers(uids: Iterable[str], **options: int) -> tuple[Step, ...]:
    return tuple(Step("answer", uid=uid, question=key, option=option) for uid in uids for key, option in options.items())


def crew(prefix: str, team: str, size: int, level: str | None = "experienced") -> list[tuple[str, str, str | None]]:
    return [(f"U{prefix}{n}", team, level) for n in range(size)]


def attack_level() -> Plan:
    """A team all of one level vs a level figure: Support's three entry-level people and Sales'
    one would leave that one's clarity as the entry-level figure less Support's."""
    people = [*crew("S", "Support", 3, "entry"), *crew("E", "Sales", 3), ("ULONE", "Sales", "entry")]
    uids = [p[0] for p in people]
    clicks = everyone_answers(uids[:-1], clarity=3, capability=3) + everyone_answers(["ULONE"], clarity=0, capability=0)
    return Plan(3, ("Sales", "Support"), tuple(people), (("US0", "Support"),), "UE0", (WeekPlan(tuesday=clicks), WeekPlan()))


def attack_parent_less_child() -> Plan:
    """A parent team less its one released child leaves the one person in the parent itself."""
    people = [("UA0", "A", "lead"), *crew("B", "A/B", 3), *crew("C", "C", 3)]
    uids = [p[0] for p in people]
    clicks = everyone_answers(uids, capability=2, rework=3) + (Step("log", uid="UA0", category="validation", minutes=240),)
    return Plan(3, ("A", "A/B", "C"), tuple(people), (("UB0", "A"),), "UC0", (WeekPlan(tuesday=clicks), WeekPlan()))


def attack_one_question_between_groups() -> Plan:
    """Everyone answers capability; rework by three in X, three in Y and one in Z: the
    organisation less X and Y would be Z's one answer."""
    people = [*crew("X", "X", 3), *crew("Y", "Y", 3), *crew("Z", "Z", 3)]
    uids = [p[0] for p in people]
    clicks = everyone_answers(uids, capability=3) + everyone_answers(["UX0", "UX1", "UX2", "UY0", "UY1", "UY2"], rework=1)
    clicks += everyone_answers(["UZ0"], rework=4)
    return Plan(3, ("X", "Y", "Z"), tuple(people), (("UZ1", "Z"),), None, (WeekPlan(tuesday=clicks), WeekPlan()))


def attack_category_alone() -> Plan:
    """One person logs a category nobody else does: split out, it would be their minutes."""
    people = crew("A", "A", 4)
    logs = tuple(Step("log", uid=f"UA{n}", category="validation", minutes=30) for n in range(3))
    logs += (Step("log", uid="UA0", category="cleanup", minutes=240, share=True),)
    return Plan(3, ("A",), tuple(people), (("UA3", "A"),), None, (WeekPlan(tuesday=everyone_answers(["UA0", "UA1", "UA2"], capability=4) + logs), WeekPlan()))


def attack_rollout_over_tiny_team() -> Plan:
    """A rollout over a one-person team and a shown team must not become a figure of its own."""
    people = [*crew("B", "Big", 3), ("UTINY", "Tiny", "entry"), *crew("O", "Other", 3)]
    uids = [p[0] for p in people]
    clicks = everyone_answers(uids[:3] + uids[4:], capability=1) + everyone_answers(["UTINY"], capability=4)
    rollout = Step("rollout", name="Probe", teams=("Big", "Tiny"))
    later = WeekPlan(before=(Step("rollout", name="Later", teams=("Tiny", "Other")),), tuesday=clicks)
    return Plan(3, ("Big", "Other", "Tiny"), tuple(people), (("UB0", "Big"),), "UO0", (WeekPlan(before=(rollout,), tuesday=clicks), later))


def attack_moves_and_forgets() -> Plan:
    """Someone moves mid-week and logs after the move (the week keeps their old team), a leaver
    goes mid-week, someone forgets after the release, and the threshold goes up."""
    people = [*crew("A", "A", 4, "entry"), *crew("B", "B", 3)]
    uids = [p[0] for p in people]
    first = WeekPlan(
        tuesday=everyone_answers(uids, capability=2) + (Step("move", uid="UA0", team="B"), Step("log", uid="UA0", category="prompting", minutes=90)),
        thursday=(Step("log", uid="UA1", category="prompting", minutes=30), Step("log", uid="UA2", category="prompting", minutes=45),
                  Step("leave", uid="UB2"), Step("answer", uid="UB2", question="rework", option=0)),
    )
    second = WeekPlan(before=(Step("forget", uid="UA1"), Step("threshold", k=4), Step("move", uid="UA3", team="B")),
                      tuesday=everyone_answers(uids, capability=4), closes=False)
    return Plan(3, ("A", "B"), tuple(people), (("UA3", "A"), ("UB0", "B")), "UB1", (first, second))


# Attacks whose target the release must withhold, and one about when and where people count.
WITHHOLDING: Final = {
    "a team all of one level vs a level figure": attack_level,
    "parent less child leaves one person": attack_parent_less_child,
    "one question's answerers leave one between groups": attack_one_question_between_groups,
    "one person logs a category alone": attack_category_alone,
    "a rollout over a one-person team and a shown team": attack_rollout_over_tiny_team,
}
ATTACKS: Final = {**WITHHOLDING, "a mid-week move, a leaver, a forget and a new threshold": attack_moves_and_forgets}


def with_attacks(db: Database, **fixed: Any) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """An `@example` per known attack (extra arguments fixed to `fixed`), on SQLite: on PostgreSQL,
    where an example costs three times as much, the attacks run once each in
    `test_each_known_attack_is_withheld_and_its_leaky_output_is_caught`."""

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        if db.engine.dialect.name != "sqlite":
            return test
        for make in ATTACKS.values():
            test = example(plan=make(), **fixed)(test)
        return test

    return decorate


def examples(db: Database, sqlite: int, postgresql: int) -> int:
    """Examples per database, scaled by PULSE_PROPERTY_SCALE (say 10 for a long run)."""
    scale = float(os.environ.get("PULSE_PROPERTY_SCALE", "1"))
    return max(1, round((sqlite if db.engine.dialect.name == "sqlite" else postgresql) * scale))


def hypothesis_settings(db: Database, sqlite: int, postgresql: int) -> settings:
    return settings(max_examples=examples(db, sqlite, postgresql), deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])


# ================================================================ the null-space twin


@dataclass(frozen=True)
class Twin:
    """A change to the plan that no released figure (or the open week's progress) can see."""

    kind: str
    about: str
    replace: Mapping[Loc, Step]


def replaced(plan: Plan, twin: Twin) -> Plan:
    weeks = list(plan.weeks)
    for index, week in enumerate(weeks):
        days = {day: list(getattr(week, day)) for day in DAYS}
        for (w, day, n), step in twin.replace.items():
            if w == index:
                days[day][n] = step
        weeks[index] = dataclasses.replace(week, tuesday=tuple(days["tuesday"]), thursday=tuple(days["thursday"]))
    return dataclasses.replace(plan, weeks=tuple(weeks))


def steps_of(plan: Plan, index: int) -> dict[Loc, Step]:
    return {(index, day, n): step for day in DAYS for n, step in enumerate(getattr(plan.weeks[index], day))}


def answers_set_to(steps: Mapping[Loc, Step], uid: str, key: str, option: int) -> dict[Loc, Step]:
    """Every click of `uid` on `key` that week answers `option`: their last one decides."""
    return {loc: dataclasses.replace(s, option=option) for loc, s in steps.items()
            if s.kind == "answer" and s.uid == uid and s.question == key}


def twins(run: History) -> list[Twin]:
    """Perturbations along the null space of what was released, found from the truth."""
    found: list[Twin] = []
    for index in range(len(run.weeks)):
        name = str(week_of(index))
        truth, release = run.weeks[name], run.releases.get(name)
        steps = steps_of(run.plan, index)
        if release is None:
            found += open_week_twins(truth, steps)
            continue
        for key in ASKED:
            found += question_twins(truth, release, steps, key)
        found += hidden_twins(truth, release, steps)
        found += same_cell_twins(run, truth, steps)
    return found


def signature(rows: Sequence[frozenset[Hashable]], unknown: Hashable) -> tuple[int, ...]:
    return tuple(int(unknown in row) for row in rows)


def figure_rows(truth: WeekTruth, release: WeekRelease, wanted: Callable[[str], bool]) -> list[frozenset[Hashable]]:
    return [unknowns(truth, m, members(truth, s, label)) for (m, s, label) in release.figures if wanted(m)]


def question_twins(truth: WeekTruth, release: WeekRelease, steps: Mapping[Loc, Step], key: str) -> list[Twin]:
    measure = question_measure(key)
    rows = figure_rows(truth, release, lambda m: m == measure)
    given = {uid: answers[key] for uid, answers in truth.answers.items() if key in answers}
    sig = {uid: signature(rows, uid) for uid in given}
    found: list[Twin] = []
    # Two answerers every released figure of the question treats alike swap their answers.
    for a, b in combinations(sorted(given), 2):
        if sig[a] == sig[b] and given[a] != given[b]:
            across = (truth.team[a], truth.level[a]) != (truth.team[b], truth.level[b])
            found.append(Twin("swap across cells" if across else "swap in a cell", f"{truth.week} {key}: {a} and {b} swap answers",
                              {**answers_set_to(steps, a, key, given[b]), **answers_set_to(steps, b, key, given[a])}))
    # A rectangle: a and d answered x, b and c answered y, and every released figure holds as many
    # of {a, d} as of {b, c}; a, d then answer y and b, c answer x.
    pairs: dict[tuple[int, tuple[int, ...]], list[tuple[str, str]]] = {}
    for a, d in combinations(sorted(given), 2):
        if given[a] == given[d]:
            pairs.setdefault((given[a], tuple(map(sum, zip(sig[a], sig[d])))), []).append((a, d))
    for (x, total), ads in sorted(pairs.items()):
        for (y, other), bcs in sorted(pairs.items()):
            if y <= x or other != total:
                continue
            for (a, d), (b, c) in [(ad, bc) for ad in ads for bc in bcs][:2]:
                if {a, d} & {b, c} or sig[a] == sig[b] or sig[a] == sig[c]:
                    continue  # disjoint, and not just two swaps of look-alikes
                change = {**answers_set_to(steps, a, key, y), **answers_set_to(steps, d, key, y),
                          **answers_set_to(steps, b, key, x), **answers_set_to(steps, c, key, x)}
                found.append(Twin("rectangle", f"{truth.week} {key}: {a},{d} answer {y} and {b},{c} answer {x}", change))
    return found


def hidden_twins(truth: WeekTruth, release: WeekRelease, steps: Mapping[Loc, Step]) -> list[Twin]:
    """Minutes moved between two reports that every released hidden-work figure adds together
    (each report stays shared for credit or not, as it was)."""
    rows = figure_rows(truth, release, lambda m: family(m) == HIDDEN)
    cells = sorted((uid, c) for uid, by in truth.hidden.items() for c, reports in by.items() if reports)
    found: list[Twin] = []
    for one, two in combinations(cells, 2):
        if signature(rows, one) != signature(rows, two):
            continue
        (m1, loc1), (m2, loc2) = max(truth.hidden[one[0]][one[1]]), min(truth.hidden[two[0]][two[1]])
        moved = min(m1 - 1, REPORT_MAX_MINUTES - m2, 60)
        if moved > 0:
            change = {loc1: dataclasses.replace(steps[loc1], minutes=m1 - moved),
                      loc2: dataclasses.replace(steps[loc2], minutes=m2 + moved)}
            found.append(Twin("hidden", f"{truth.week}: {moved} min from {one} to {two}", change))
    return found


def same_cell_twins(run: History, truth: WeekTruth, steps: Mapping[Loc, Step]) -> list[Twin]:
    """Two people of one team and level, both reached or both not, swap everything they did that
    week: clicks and reports. Nothing may tell who was who."""
    busy = {s.uid for s in steps.values() if s.kind in ROSTER_EVENTS}

    def week_of_person(uid: str) -> tuple[object, ...]:
        reports = {c: sorted(m for m, _ in r) for c, r in truth.hidden.get(uid, {}).items()}
        return truth.responses.get(uid), truth.answers.get(uid), reports

    found: list[Twin] = []
    for a, b in combinations(sorted(truth.team), 2):
        same = (truth.team[a], truth.level[a], a in truth.sent) == (truth.team[b], truth.level[b], b in truth.sent)
        if not same or {a, b} & busy or week_of_person(a) == week_of_person(b):
            continue
        other = {a: b, b: a}
        change = {loc: dataclasses.replace(s, uid=other[s.uid]) for loc, s in steps.items() if s.uid in other and s.kind in ("answer", "skip", "log")}
        found.append(Twin("same cell", f"{truth.week}: {a} and {b} swap their week", change))
    return found[:3]


def open_week_twins(truth: WeekTruth, steps: Mapping[Loc, Step]) -> list[Twin]:
    """In the week still open, only who answered shows (as progress): any answer or minutes may differ."""
    found: list[Twin] = []
    for key in ASKED:
        options = len(QUESTIONS[key].options)
        change = {loc: dataclasses.replace(s, option=(s.option + 1) % options) for loc, s in steps.items()
                  if s.kind == "answer" and s.question == key}
        if any(key in a for a in truth.answers.values()):
            found.append(Twin("open week", f"{truth.week}: every {key} answer moves one option", change))
    logs = {loc: dataclasses.replace(s, minutes=s.minutes % 480 + 7) for loc, s in steps.items() if s.kind == "log"}
    if any(truth.hidden.values()):
        found.append(Twin("open week", f"{truth.week}: every report's minutes change", logs))
    return found


# ================================================================ deliberately leaky outputs


def tree(truth: WeekTruth) -> list[str]:
    return sorted({"/".join(t.split("/")[: n + 1]) for t in truth.team.values() for n in range(t.count("/") + 1)})


def leaky_team_means(run: History) -> list[Claim]:
    """Every team's (and, for clarity, every level's) mean of every question, straight from the
    truth: what an output that ignored the release would show."""
    claims: list[Claim] = []
    for name, truth in run.weeks.items():
        if name not in run.releases:
            continue
        for key in ASKED:
            measure = question_measure(key)
            groups = [*tree(truth), *(f"level: {lv}" for lv in sorted({lv for lv in truth.level.values() if lv}) if key == "clarity")]
            for group in groups:
                scope, label = (LEVEL, group.removeprefix("level: ")) if group.startswith("level: ") else (TEAM, group)
                cells = unknowns(truth, measure, members(truth, scope, label))
                if cells:
                    values = [value(truth, measure, c) for c in cells]
                    claims.append(Claim("leaky team means", name, measure, group, len(cells), mean=sum(values) / len(values)))
    return claims


def per_cell_sums(run: History) -> str:
    """A leaky output for the twins: every (team, level) cell's sum of every question, and every
    (team, category) cell's hidden minutes, straight from the truth."""
    lines: list[str] = []
    for name, truth in sorted(run.weeks.items()):
        minutes: dict[tuple[str, str], int] = {}
        for uid, by_category in truth.hidden.items():
            for category in by_category:
                cell = (truth.team[uid], category)
                minutes[cell] = minutes.get(cell, 0) + truth.minutes(uid, category)
        lines += [f"{name} hidden {cell}: {total}" for cell, total in sorted(minutes.items())]
        for key in ASKED:
            sums: dict[tuple[str, str | None], float] = {}
            for uid, answers in truth.answers.items():
                if key in answers:
                    cell = (truth.team[uid], truth.level[uid])
                    sums[cell] = sums.get(cell, 0.0) + truth.value(uid, key)
            lines += [f"{name} {key} {cell}: {total}" for cell, total in sorted(sums.items(), key=repr)]
    return "\n".join(lines)


def first_difference(one: Mapping[str, str], two: Mapping[str, str]) -> str | None:
    for name in sorted(set(one) | set(two)):
        if one.get(name) != two.get(name):
            a, b = (one.get(name) or "").splitlines(), (two.get(name) or "").splitlines()
            for n, (x, y) in enumerate(zip(a + [""] * len(b), b + [""] * len(a))):
                if x != y:
                    return f"{name}, line {n + 1}:\n  before: {x}\n  after:  {y}"
            return name
    return None


# ================================================================ 1. the reference model


class Counts(Hooks):
    """The open week's progress, counted before each day's first click, against the truth."""

    def probe(self, run: History, label: str, at: dt.datetime) -> None:
        if not label.endswith("early"):
            return
        assert run.db is not None and run.current is not None
        truth = run.weeks[run.current]
        counted = progress(run.db, KEY, run.current, run.k, at=at).groups
        rows: list[frozenset[Hashable]] = []
        for label_, (sent, answered) in counted.items():
            group = members(truth, ORG, "") if label_ == "" else members(truth, TEAM, label_)
            reached = group & truth.sent
            # What the day's count shows is the truth so far: everything clicked before it.
            true = (len(reached), len(reached & truth.answered))
            assert (sent, answered) == true, f"{label}: progress of {label_ or ORGANISATION!r} shows {(sent, answered)}, the truth {true}"
            rows.append(frozenset(reached))
        # The day's groups, decided by the participation rule, determine nothing under k either.
        assert determined_small_group(rows, run.k) is None, f"{label}: progress groups {sorted(counted)} isolate someone"


def test_no_released_figure_or_output_determines_a_group_under_k(db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("bot.reports.digest.trend_chart", chart_stub)

    @hypothesis_settings(db, sqlite=60, postgresql=20)
    @given(plan=plans())
    @with_attacks(db)
    def check(plan: Plan) -> None:
        empty(db)
        run = History(plan, db, Counts()).play()
        seen = observe(run, run.end, tmp_path)
        event(f"weeks released: {len(run.releases)}, thresholds {sorted({w.k for w in run.weeks.values() if w.k})}")
        event(f"claims judged: {'none' if not seen.claims else 'up to 50' if len(seen.claims) <= 50 else 'over 50'}")
        # Every export row is a released figure (or "Other teams", the organisation less its
        # outermost released teams), and so is every number of every digest and summary.
        judge(run.weeks, run.releases, seen.claims)

    check()


# ================================================================ 2. every output at every moment


class Watch(Hooks):
    """Outputs before and after every roster event once a week is released; the open week's
    digest and summaries before Tuesday's first click and after its last."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.pending: tuple[dict[str, str], frozenset[str]] | None = None
        self.last: tuple[Hashable, dict[str, str]] | None = None
        self.mornings: dict[str, dict[str, str]] = {}
        self.compared = 0

    def look(self, run: History, at: dt.datetime, shown: frozenset[str]) -> dict[str, str]:
        """The outputs now; the ones just seen when nothing has happened since, the same day."""
        key = (run.done, at.date(), shown)
        if self.last is None or self.last[0] != key:
            self.last = (key, observe(run, at, self.tmp, rollouts=shown).texts)
        return self.last[1]

    def before(self, run: History, at: dt.datetime, step: Step) -> None:
        shown = frozenset(run.rollouts)
        self.pending = (self.look(run, at, shown), shown)

    def after(self, run: History, at: dt.datetime, step: Step) -> None:
        assert self.pending is not None
        before, shown = self.pending
        after = self.look(run, at, shown)
        difference = first_difference(before, after)
        assert difference is None, f"{step} at {at:%a %H:%M} changed {difference}"
        self.compared += 1
        event(f"outputs compared around a {step.kind}")

    def probe(self, run: History, label: str, at: dt.datetime) -> None:
        if "tuesday" not in label:
            return
        assert run.db is not None and run.current is not None
        texts = {f"summary {uid}": repr(team_summaries(run.db, run.rules, KEY, uid, None, 2, at=at)) for uid in run.viewers}
        digest, _ = build_digest(run.db, run.rules, LIBRARY, IsoWeek.parse(run.current), KEY, at=at)
        texts["digest"] = render_digest(digest)
        if label.endswith("early"):
            self.mornings[run.current] = texts
        else:
            difference = first_difference(self.mornings[run.current], texts)
            assert difference is None, f"the open week {run.current} changed during Tuesday: {difference}"
            self.compared += 1


def test_every_output_about_a_released_week_stays_the_same_whatever_happens_later(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("bot.reports.digest.trend_chart", chart_stub)

    @hypothesis_settings(db, sqlite=18, postgresql=4)
    @given(plan=plans(events=4))
    @with_attacks(db)
    def check(plan: Plan) -> None:
        empty(db)
        watch = Watch(tmp_path)
        History(plan, db, watch).play()
        event(f"comparisons: {min(watch.compared, 6)}{'+' if watch.compared >= 6 else ''}")

    check()


# ================================================================ 3. the null-space twin


def test_histories_the_release_cannot_tell_apart_give_byte_identical_outputs(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("bot.reports.digest.trend_chart", chart_stub)

    @hypothesis_settings(db, sqlite=20, postgresql=4)
    @given(plan=plans(), choice=st.integers(0, 1000))
    @with_attacks(db, choice=0)
    def check(plan: Plan, choice: int) -> None:
        empty(db)
        one = History(plan, db).play()
        first = observe(one, one.end, tmp_path).texts
        candidates = twins(one)
        if not candidates:
            event("no twin: nothing the release cannot see")
            return
        kinds = sorted({t.kind for t in candidates})
        kind = kinds[choice % len(kinds)]
        same_kind = [t for t in candidates if t.kind == kind]
        twin = same_kind[choice // len(kinds) % len(same_kind)]
        event(f"twin: {twin.kind}")
        empty(db)
        two = History(replaced(plan, twin), db).play()
        assert two.weeks != one.weeks, f"{twin.about} changed nothing"
        assert {w: dict(r.figures) for w, r in two.releases.items()} == {w: dict(r.figures) for w, r in one.releases.items()}, twin.about
        difference = first_difference(first, observe(two, two.end, tmp_path).texts)
        assert difference is None, f"{twin.about}: {difference}"

    check()


# ================================================================ 4. the test of the test


def withheld_rows(run: History) -> list[Claim]:
    """Every figure the release wanted and withheld, as an output that showed it anyway would:
    the release plus one raw figure. Wanted: participation for the organisation and every team
    with someone reached; a question for the groups whose participation is shown and, for
    clarity, every level; hidden work for every team and category."""
    claims: list[Claim] = []
    for name, truth in run.weeks.items():
        release = run.releases.get(name)
        if release is None:
            continue
        wanted: list[tuple[str, str | tuple[str, ...]]] = [(PARTICIPATION, ORGANISATION), *((PARTICIPATION, t) for t in tree(truth))]
        shown = [ORGANISATION, *release.labels(PARTICIPATION, TEAM)]
        for key in ASKED:
            wanted += [(question_measure(key), group) for group in shown]
        wanted += [(question_measure("clarity"), f"level: {lv}") for lv in sorted({lv for lv in truth.level.values() if lv})]
        wanted += [(HIDDEN, ORGANISATION), *((HIDDEN, t) for t in tree(truth)), *((f"{HIDDEN}:{c}", ORGANISATION) for c in CATEGORIES)]
        for measure, group in wanted:
            resolved = resolve(truth, release, measure, group)
            if resolved.figure is None and resolved.cells:
                values = [value(truth, measure, c) for c in resolved.cells]
                claims.append(Claim("leaky: a withheld figure", name, measure, group, len(owners(resolved.cells)), sum(values)))
    return claims


def test_the_checker_catches_outputs_that_show_more_than_the_release(db: Database, tmp_path: Path) -> None:
    @hypothesis_settings(db, sqlite=20, postgresql=3)
    @given(plan=plans())
    @with_attacks(db)
    def check(plan: Plan) -> None:
        empty(db)
        run = History(plan, db).play()
        judge(run.weeks, run.releases)  # the release alone passes
        # Every team's (and level's) mean straight from the truth is caught exactly when it shows
        # a group the release withheld; where it shows only released groups it is the release.
        leaky = leaky_team_means(run)
        shows_more = [c for c in leaky if resolve(run.weeks[c.week], run.releases[c.week], c.measure, c.group).figure is None]
        event(f"leaky team means show a withheld group: {bool(shows_more)}")
        if shows_more:
            with pytest.raises(Leak, match="neither a released figure"):
                judge(run.weeks, run.releases, leaky)
        else:
            judge(run.weeks, run.releases, leaky)
        # Any one figure the release withheld, shown beside the release, is caught by the reference
        # model itself (with no list of released figures to compare with): it was withheld because,
        # with the figures released before it, it pins down a group under k, and it still does.
        withheld = withheld_rows(run)
        event(f"withheld figures: {min(len(withheld), 5)}{'+' if len(withheld) >= 5 else ''}")
        for claim in withheld:
            with pytest.raises(Leak, match="determine"):
                judge(run.weeks, run.releases, [claim], registered_only=False)
        # A twin tells apart what an output shows beyond the release: where a twin moves a value
        # between two cells, per-cell sums (a leaky output) differ while the product's may not.
        for twin in twins(run):
            if twin.kind in ("swap across cells", "rectangle", "hidden"):
                other = History(replaced(plan, twin), None).play()
                crossing = twin.kind != "hidden" or len(cell_of(run, twin)) > 1  # two (team, category) cells
                if crossing:
                    event(f"twin crossing cells: {twin.kind}")
                    assert per_cell_sums(other) != per_cell_sums(run), twin.about

    check()


def cell_of(run: History, twin: Twin) -> list[tuple[str, str]]:
    """The (team, category) cells of the reports a hidden-work twin changes."""
    cells: list[tuple[str, str]] = []
    for (index, _, _), step in twin.replace.items():
        truth = run.weeks[str(week_of(index))]
        cells.append((truth.team[step.uid], step.category))
    return sorted(set(cells))


@pytest.mark.parametrize("attack", sorted(WITHHOLDING))
def test_each_known_attack_is_withheld_and_its_leaky_output_is_caught(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, attack: str
) -> None:
    monkeypatch.setattr("bot.reports.digest.trend_chart", chart_stub)
    run = History(WITHHOLDING[attack](), db, Counts()).play()
    judge(run.weeks, run.releases, observe(run, run.end, tmp_path).claims)
    # The attack's target was withheld, so an output that showed every group is caught: by the
    # list of released figures, and by the reference model alone.
    leaky = leaky_team_means(run) + withheld_rows(run)
    with pytest.raises(Leak):
        judge(run.weeks, run.releases, leaky)
    with pytest.raises(Leak, match="determine"):
        judge(run.weeks, run.releases, withheld_rows(run), registered_only=False)


def test_a_digest_states_the_threshold_its_week_was_released_with(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.reports.digest.trend_chart", chart_stub)
    people = crew("A", "Sales", 6)
    clicks = everyone_answers([uid for uid, _, _ in people], capability=3)
    plan = Plan(3, ("Sales",), tuple(people), (("UA0", "Sales"),), None,
                (WeekPlan(tuesday=clicks), WeekPlan(before=(Step("threshold", k=5),), closes=False)))
    run = History(plan, db).play()
    assert run.releases[str(FIRST)].min_group_size == 3
    digest, _ = build_digest(db, behaviour(5), LIBRARY, FIRST, KEY, at=run.end)
    assert "No figure covers fewer than 3 people" in render_digest(digest)
