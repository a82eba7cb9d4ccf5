"""Benchmark 3: releasing a week at 100,000 people, and the council digest over 4 and 52 weeks.

The promises: a closed week is released (its raw inputs read, opened, decided and written) in at
most 30 s for 100,000 people, and the digest, which reads only released figures, takes at most
1 s, whatever the length of the history (52 weeks at most 1.2x 4 weeks), on PostgreSQL. A
12-week history (the chart's whole window) is timed too, for information.

    python -m bench.digest                                    # PostgreSQL, 100,000 people; 4, 12 and 52 weeks
    python -m bench.digest --database sqlite                  # SQLite, 20,000 people
    python -m bench.digest --people 5000 --weeks 12 --repeat 3   # a quick run: 4 and 12 weeks
    python -m bench.digest --breakdown --profile              # time per part; cProfile of a release and a digest

Each history is a database of its own, made by the real migrations (a schema of its own at
PULSE_BENCH_POSTGRES_URL, default postgresql+psycopg://postgres@localhost:5432/test, or a SQLite
file in a temporary folder), all ending in the same week, as an organisation that started 4
(or 52) weeks ago would have. One generator decides, week by week, what everyone did: who was
sent the pulse, who answered what, who logged hidden work (about a third of people), which
explainer each person was sent and how they rated it. The same generated week is stored in one of
two ways:

* raw (the last `--raw-weeks` weeks of each history, 1 by default): the week roster, the pulse
  deliveries, the responses, hidden-work and credit reports and the explainer ratings, sealed and
  pseudonymised as the app stores them, loaded with COPY on PostgreSQL (executemany on SQLite).
  These weeks are released by the real `release_week`, timed, in a process of its own (so its
  peak memory is its own);
* already released (every earlier week): instead of storing and sealing raw rows that would only
  be read once, the generated inputs go straight to the real decision
  (`bot.release.families.week_figures`, what `release_week` runs after `gather`), and its figures
  are loaded as `releases` + `released_figures` rows. Their raw rows (roster, pulse deliveries,
  responses, reports, ratings) are not stored, except the explainer deliveries (sends), which
  are stored for every week, since a release reads an explainer's sends of every week to find
  its raters. The benchmark checks that the real release of each raw week gives exactly the
  figures the short cut computes from the same inputs.

The organisation stays the same over the history (the same people, teams and levels each week).

The digest is then timed in the steady state (every week released) with `build_digest`, as the
digest job and `pulse digest show` call it, the histories taking turns; each run calls it afresh.
Its time includes computing the chart's data; rendering the PNG (constant) is shown beside it.
PostgreSQL gets VACUUM ANALYZE after the load and after the release, as autovacuum would. The
clock is the `at` the app passes: one hour after the reported week became final, so the benchmark
runs on any day.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import gc
import inspect
import io
import json
import multiprocessing
import os
import pstats
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/digest.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text

import bot.reports.digest as digest_module
from bench.common import fresh_database
from bot.db import Base, Database
from bot.explainers.library import Explainer, Library, load_library, reading_order
from bot.models import WORK_CATEGORIES, ExplainerDelivery, ReleasedFigure  # bot.models registers every table on Base
from bot.privacy import explainer_pseudonym, random_id, seal, week_pseudonym
from bot.release.families import RULE_VERSION, Figure, week_figures
from bot.release.inputs import Member as RosterMember
from bot.release.inputs import WeekInputs
from bot.release.service import final_at
from bot.reports.digest import build_digest
from bot.settings import Behaviour, Question, load_behaviour
from bot.surveys.bank import freeze, questions_for_week
from bot.weeks import UTC, IsoWeek, now, round_closes_at

POSTGRES_URL = os.environ.get("PULSE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@localhost:5432/test")
BUDGET_RELEASE = 30.0  # seconds: releasing one week at 100,000 people, PostgreSQL
BUDGET_DIGEST = 1.0  # seconds: the digest with its chart data, the PNG not rendered, PostgreSQL
BUDGET_RATIO = 1.2  # the digest over the long history / over the short one
BUDGET_PEOPLE = 100_000  # the release budget is for this many people
DEFAULT_PEOPLE = {"postgresql": 100_000, "sqlite": 20_000}

KEY = b"bench-digest-pseudonym-key-0123456789"
LEVELS = ("entry", "associate", "experienced", "senior", "lead")
LEVEL_WEIGHTS = (0.22, 0.2, 0.3, 0.18, 0.1)
ZONES = (
    "Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles",
    "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo",
)
DIVISIONS = (
    "Sales", "Finance", "Operations", "Engineering", "Support", "Marketing",
    "Legal", "People", "Product", "Procurement", "Risk", "Research",
)
COMMENTS = (
    "The assistant drafts well but the figures need checking every time.",
    "We still keep the old spreadsheet because the export drops rows.",
    "Training was too short; we learn by trial and error.",
    "Saves me an hour a day on summaries.",
    "Nobody told us how our work is measured now.",
)
TOOLS = (None, None, "Copilot", "Forecast assistant", "Support assistant", "spreadsheet")
TINY_TEAMS = 0.08  # share of teams with 1 to 12 people, so that suppression has work to do
CUSTOM_EVERY_WEEKS = 2  # the organisation publishes an explainer of its own every other week
ROLLOUTS = (  # name, divisions covered, go-live in weeks before the reported week
    ("Forecast assistant", ("Sales", "Finance"), 10),
    ("Support assistant", ("Support", "Operations"), 3),
    ("Code review bot", ("Engineering", "Product"), 30),
)


# ---------------------------------------------------------------- the organisation


@dataclass(frozen=True)
class Person:
    id: int
    user_id: str
    team_id: int
    path: str
    level: str
    zone: str
    answers_rate: float  # how likely this person answers a given week's pulse
    go_live: int | None  # the ordinal of the go-live week of the rollout covering their team


@dataclass
class Organisation:
    teams: list[dict[str, Any]]
    people: list[Person]
    inactive: set[int]  # deactivated: on no roster, sent nothing
    division_ids: dict[str, int]

    @property
    def active(self) -> list[Person]:
        return [p for p in self.people if p.id not in self.inactive]


def organisation(people: int, team_count: int, seed: int, reported: IsoWeek) -> Organisation:
    """`team_count` teams in three levels (division, department, squad), people spread unevenly:
    a lognormal spread, and a few tiny teams (1 to 12 people)."""
    rng = random.Random(f"{seed}:organisation")
    teams: list[dict[str, Any]] = []
    division_ids: dict[str, int] = {}

    def add(name: str, parent: dict[str, Any] | None) -> dict[str, Any]:
        path = f"{parent['path']}/{name}" if parent else name
        team = {"id": len(teams) + 1, "path": path, "name": name, "parent_id": parent["id"] if parent else None}
        teams.append(team)
        return team

    for name in DIVISIONS:
        division_ids[name] = add(name, None)["id"]
    divisions, departments = list(teams), []
    while len(teams) < max(team_count, len(DIVISIONS)):
        if not departments or rng.random() < 0.3:
            departments.append(add(f"Department {len(teams) + 1}", rng.choice(divisions)))
        else:
            add(f"Squad {len(teams) + 1}", rng.choice(departments))
    below = [t for t in teams if t["parent_id"] is not None]
    tiny = rng.sample(below, max(1, round(len(teams) * TINY_TEAMS)))
    team_ids = [t["id"] for t in tiny for _ in range(rng.randint(1, 12))]
    rest = [t for t in teams if t not in tiny]
    # Divisions hold their heads' staff only; departments and squads most people.
    weights = [rng.lognormvariate(0, 0.8) * (0.2 if t["parent_id"] is None else 1) for t in rest]
    team_ids += rng.choices([t["id"] for t in rest], weights=weights, k=people - len(team_ids))
    rng.shuffle(team_ids)
    paths = {t["id"]: t["path"] for t in teams}
    go_lives = {division_ids[d]: reported.shifted(-ago).ordinal for _, covered, ago in ROLLOUTS for d in covered}
    team_rate = {t["id"]: min(0.95, max(0.25, rng.gauss(0.66, 0.12))) for t in teams}
    members = []
    for index, team_id in enumerate(team_ids):
        path = paths[team_id]
        members.append(Person(
            id=index + 1,
            user_id=f"UB{index + 1:08d}",
            team_id=team_id,
            path=path,
            level=rng.choices(LEVELS, LEVEL_WEIGHTS)[0],
            zone=rng.choice(ZONES),
            answers_rate=min(0.98, max(0.05, rng.gauss(team_rate[team_id], 0.15))),
            go_live=go_lives.get(division_ids[path.split("/")[0]]),
        ))
    inactive = {m.id for m in members if rng.random() < 0.01}
    return Organisation(teams, members, inactive, division_ids)


def bench_library(reported: IsoWeek, weeks: int) -> tuple[Library, dict[str, int]]:
    """The shipped explainers plus one of the organisation's own every other week of the history.

    Returns the library and, per explainer, the ordinal of the week it was published.
    """
    shipped = list(load_library())
    published = {e.key: 0 for e in shipped}
    custom = []
    for number, ago in enumerate(range(max(weeks, 52) - 1, -1, -CUSTOM_EVERY_WEEKS)):
        key = f"playbook-{number + 1:03d}"
        custom.append(Explainer(key=key, title=f"Team playbook {number + 1}", body="How we work with AI now."))
        published[key] = reported.shifted(-ago).ordinal
    return Library(tuple(sorted(shipped + custom, key=reading_order))), published


# ---------------------------------------------------------------- what happens in a week


@dataclass
class WeekPlan:
    """One week as generated: what the app's raw tables would hold, by person id."""

    week: IsoWeek
    questions: list[Question]
    deliveries: list[tuple[int, bool]] = field(default_factory=list)  # person, sent (False: failed)
    responses: list[tuple[int, bool, dict[str, float], str | None]] = field(default_factory=list)  # person, skipped, answers, comment
    hidden: list[tuple[int, str, int, str | None, str | None, bool]] = field(default_factory=list)  # person, category, minutes, tool, note, shared
    sends: list[tuple[int, str]] = field(default_factory=list)  # person, explainer sent this week
    ratings: list[tuple[int, str, bool, bool]] = field(default_factory=list)  # person, explainer, first rating, now; first given this week
    asked: list[tuple[int, str, bool]] = field(default_factory=list)  # person, explainer, named


def _dip(weeks_since_go_live: int | None) -> float:
    """How deep the go-live dip is this many weeks after go-live (0 calm … 1 at the bottom)."""
    if weeks_since_go_live is None:
        return 0.1
    return {0: 0.4, 1: 0.9, 2: 1.0, 3: 0.8, 4: 0.5, 5: 0.3}.get(weeks_since_go_live, 0.05)


def _value(rng: random.Random, question: Question, dip: float) -> float:
    top = len(question.options) - 1
    if question.kind == "scale":
        centre, spread = 3.3 - dip * 1.6, 0.9
    elif question.key == "upkeep":
        centre, spread = 1.5 + dip * 2, 0.9
    elif question.kind == "hours":
        centre, spread = 2.5 - dip, 0.9
    else:
        centre, spread = top * (0.1 + dip * 0.4), 0.45
    return float(question.options[max(0, min(top, round(rng.gauss(centre, spread))))].value)


class Timeline:
    """The organisation's weeks, generated in order (what people have read carries over)."""

    def __init__(self, org: Organisation, behaviour: Behaviour, library: Library, published: dict[str, int], seed: int) -> None:
        self.org, self.behaviour, self.published, self.seed = org, behaviour, published, seed
        order = [e.key for e in library]
        self.unread = {m.id: list(order) for m in org.people}
        self.late: list[tuple[int, str, bool, bool]] = []  # ratings given the week after the explainer was sent

    def week(self, week: IsoWeek) -> WeekPlan:
        rng = random.Random(f"{self.seed}:{week}")
        questions = questions_for_week(self.behaviour.questions, week)
        plan = WeekPlan(week, questions, ratings=self.late)
        self.late = []
        ordinal = week.ordinal
        closed = [q for q in questions if q.kind != "text"]
        has_comment = any(q.kind == "text" for q in questions)
        dips = {g: _dip(None if g is None else ordinal - g) for g in {m.go_live for m in self.org.people}}
        available = {key for key, since in self.published.items() if since <= ordinal}
        for member in self.org.active:
            dip = dips[member.go_live]
            paused = rng.random() < 0.01
            if not paused:
                failed = rng.random() < 0.005
                plan.deliveries.append((member.id, not failed))
                if not failed and rng.random() < member.answers_rate:
                    skipped = rng.random() < 0.04
                    answers = {} if skipped else {q.key: _value(rng, q, dip) for q in closed if rng.random() < 0.97}
                    comment = rng.choice(COMMENTS) if has_comment and not skipped and rng.random() < 0.04 else None
                    plan.responses.append((member.id, skipped, answers, comment))
            if rng.random() < 0.32:
                for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                    minutes = int(rng.choice((10, 15, 20, 30, 45, 60, 90, 120)) * (1.6 if dip > 0.3 else 1))
                    plan.hidden.append((member.id, rng.choice(WORK_CATEGORIES), minutes, rng.choice(TOOLS),
                                        "checked the draft before it went out" if rng.random() < 0.2 else None,
                                        rng.random() < 0.1))
            if not paused and rng.random() < 0.9:
                waiting = self.unread[member.id]
                if waiting and waiting[0] in available:
                    key = waiting.pop(0)
                    plan.sends.append((member.id, key))
                    if rng.random() < 0.45:
                        first = rng.random() < 0.7
                        rating = (member.id, key, first, first if rng.random() < 0.95 else not first)
                        (self.late if rng.random() < 0.1 else plan.ratings).append(rating)
                    if rng.random() < 0.003:
                        plan.asked.append((member.id, key, rng.random() < 0.3))
        return plan


def inputs_of(plan: WeekPlan, org: Organisation) -> WeekInputs:
    """What `bot.release.inputs.gather` reads from the week's raw rows, built from the plan directly."""
    inputs = WeekInputs(str(plan.week))
    inputs.members = {m.id: RosterMember(m.id, m.path, m.level) for m in org.active}
    inputs.questions = [q for q in plan.questions if q.kind != "text"]
    inputs.sent = {person for person, sent in plan.deliveries if sent}
    for person, skipped, answers, _ in plan.responses:
        if skipped:
            continue
        inputs.answered.add(person)
        for key, value in answers.items():
            inputs.values.setdefault(key, {})[person] = value
    inputs.sent |= inputs.answered
    minutes: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    shared: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for person, category, logged, _tool, _note, credit in plan.hidden:
        minutes[person][category] += logged
        if credit:
            shared[person][category] += logged
    inputs.hidden = {person: dict(by_category) for person, by_category in minutes.items()}
    inputs.shared = {person: dict(by_category) for person, by_category in shared.items()}
    for person, key, first, _ in plan.ratings:
        inputs.ratings.setdefault(key, {})[person] = first
    inputs.reach = dict(Counter(key for _, key in plan.sends))
    return inputs


# ---------------------------------------------------------------- loading


def _at(week: IsoWeek, weekday: int, hour: float) -> dt.datetime:
    return dt.datetime.combine(week.day(weekday), dt.time(0), tzinfo=UTC) + dt.timedelta(hours=hour)


@dataclass
class LoadStats:
    seconds: float = 0.0
    rows: Counter[str] = field(default_factory=Counter)
    spent: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # generating, sealing, deciding, writing


class Loader:
    """Rows into one database: COPY on PostgreSQL (psycopg's `cursor.copy` on the engine's raw
    DBAPI connection), Core executemany on SQLite. One transaction, committed by `commit`."""

    def __init__(self, url: str, stats: LoadStats) -> None:
        self.db = Database(url)
        self.stats = stats
        self.postgres = self.db.engine.dialect.name == "postgresql"
        self.tables = Base.metadata.tables
        if self.postgres:
            self.raw = self.db.engine.raw_connection()
            self.cursor = self.raw.driver_connection.cursor()
            self.cursor.execute("SET synchronous_commit = off")
        else:
            self.connection = self.db.engine.connect()
            self.connection.begin()

    def rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        started = time.perf_counter()
        count = 0
        if self.postgres:
            with self.cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            batch: list[dict[str, Any]] = []
            statement = insert(self.tables[table])
            for row in rows:
                batch.append(dict(zip(columns, row)))
                if len(batch) == 20_000:
                    self.connection.execute(statement, batch)
                    count += len(batch)
                    batch = []
            if batch:
                self.connection.execute(statement, batch)
                count += len(batch)
        self.stats.rows[table] += count
        self.stats.spent["writing"] += time.perf_counter() - started

    def commit(self) -> None:
        started = time.perf_counter()
        if self.postgres:
            for table in ("teams", "people", "rollouts", "question_sets", "pulse_rounds", "deliveries",
                          "credit_reports", "explainer_deliveries", "explainer_questions", "digest_posts",
                          "rollout_decisions", "released_figures"):
                self.cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
                )
            self.raw.commit()
            self.cursor.close()
            self.raw.close()
        else:
            self.connection.commit()
            self.connection.close()
        self.stats.spent["writing"] += time.perf_counter() - started

    def dispose(self) -> None:
        self.db.dispose()


def vacuum(db: Database) -> None:
    """What autovacuum does after a bulk load, here at once (PostgreSQL only)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            connection.execute(text(f"VACUUM ANALYZE {tables}"))


class History:
    """One database's organisation and weeks, loaded; raw weeks are returned to be released."""

    def __init__(self, url: str, org: Organisation, behaviour: Behaviour, library: Library,
                 published: dict[str, int], weeks: Sequence[IsoWeek], raw_weeks: int, seed: int) -> None:
        self.url, self.org, self.behaviour, self.library, self.published = url, org, behaviour, library, published
        self.weeks, self.raw_weeks, self.seed = list(weeks), raw_weeks, seed
        self.stats = LoadStats()
        self.round_ids: dict[str, int] = {}
        self.plans: dict[str, WeekInputs] = {}  # the raw weeks' inputs, as the short cut sees them
        self._ids: Counter[str] = Counter()

    def _next(self, table: str) -> int:
        self._ids[table] += 1
        return self._ids[table]

    def load(self) -> None:
        started = time.perf_counter()
        loader = Loader(self.url, self.stats)
        try:
            self._organisation(loader)
            timeline = Timeline(self.org, self.behaviour, self.library, self.published, self.seed)
            raw = set(self.weeks[-self.raw_weeks:]) if self.raw_weeks else set()
            for week in self.weeks:
                began = time.perf_counter()
                plan = timeline.week(week)
                self.stats.spent["generating"] += time.perf_counter() - began
                self._sends(loader, plan)
                if week in raw:
                    self._raw(loader, plan)
                    self.plans[str(week)] = inputs_of(plan, self.org)
                else:
                    self._released(loader, plan)
            loader.commit()
        finally:
            loader.dispose()
        db = Database(self.url)
        try:
            began = time.perf_counter()
            vacuum(db)
            self.stats.spent["vacuum"] += time.perf_counter() - began
        finally:
            db.dispose()
        self.stats.seconds = time.perf_counter() - started

    def _organisation(self, loader: Loader) -> None:
        org, reported = self.org, self.weeks[-1]
        loader.rows("teams", ("id", "path", "name", "parent_id"),
                    ((t["id"], t["path"], t["name"], t["parent_id"]) for t in org.teams))
        loader.rows("people", ("id", "slack_user_id", "email", "team_id", "level", "is_council", "tz", "active", "away"),
                    ((m.id, m.user_id, f"{m.user_id.lower()}@bench.example", m.team_id, m.level, m.id % 5000 == 1,
                      m.zone, m.id not in org.inactive, False) for m in org.people))
        managers: dict[int, int] = {}
        for m in org.people:
            managers.setdefault(m.team_id, m.id)
        loader.rows("managers", ("person_id", "team_id"), ((p, t) for t, p in managers.items()))
        rollouts, covered, decisions = [], [], []
        for number, (name, divisions, ago) in enumerate(ROLLOUTS, start=1):
            rollouts.append((number, name, reported.shifted(-ago).day(2), _at(reported.shifted(-ago - 2), 1, 9)))
            covered += [(number, org.division_ids[d]) for d in divisions]
            for back in range(min(ago, 4), 0, -1):
                decided = reported.shifted(-back)
                decisions.append((len(decisions) + 1, number, str(decided), ("continue", "review")[back % 2],
                                  "UB00000001", _at(decided.shifted(1), 1, 15)))
        loader.rows("rollouts", ("id", "name", "go_live", "created_at"), rollouts)
        loader.rows("rollout_teams", ("rollout_id", "team_id"), covered)
        loader.rows("rollout_decisions", ("id", "rollout_id", "week", "decision", "decided_by", "decided_at"), decisions)
        sets: dict[str, int] = {}
        set_rows, round_rows = [], []
        for week in self.weeks:
            digest, payload = freeze(questions_for_week(self.behaviour.questions, week))
            if digest not in sets:
                sets[digest] = len(sets) + 1
                set_rows.append((sets[digest], digest, json.dumps(payload), _at(week, 2, 9)))
            self.round_ids[str(week)] = len(round_rows) + 1
            round_rows.append((len(round_rows) + 1, str(week), sets[digest], round_closes_at(week), _at(week, 2, 9)))
        loader.rows("question_sets", ("id", "digest", "questions", "created_at"),
                    set_rows if loader.postgres else [(i, d, json.loads(q), c) for i, d, q, c in set_rows])
        loader.rows("pulse_rounds", ("id", "week", "question_set_id", "closes_at", "created_at"), round_rows)
        loader.rows("digest_posts", ("id", "week", "status", "channel_id", "message_ts", "claimed_at", "posted_at"),
                    [(n, str(w), "posted", "CCOUNCIL", f"{w.ordinal}.000500", _at(w.shifted(1), 1, 14),
                      _at(w.shifted(1), 1, 14)) for n, w in enumerate(self.weeks[:-1], start=1)])

    def _sends(self, loader: Loader, plan: WeekPlan) -> None:
        """Explainer sends and the questions they raised: stored for every week."""
        week, sent_at = str(plan.week), _at(plan.week, 4, 10)
        loader.rows("explainer_deliveries",
                    ("id", "person_id", "explainer_key", "week", "status", "channel_id", "message_ts", "claimed_at", "sent_at"),
                    ((self._next("explainer_deliveries"), person, key, week, "sent", f"D{person:08d}",
                      f"{plan.week.ordinal}{person:08d}.000300", sent_at, sent_at) for person, key in plan.sends))
        loader.rows("explainer_questions", ("id", "explainer_key", "text", "person_id", "week", "channel_id", "message_ts"),
                    [(self._next("explainer_questions"), key, "Who signs off on the assistant's output now?",
                      person if named else None, week, "CCOUNCIL", f"{plan.week.ordinal}{person:08d}.000400")
                     for person, key, named in plan.asked])

    def _released(self, loader: Loader, plan: WeekPlan) -> None:
        """An already released week: the real decision on the generated inputs, its figures loaded."""
        began = time.perf_counter()
        figures = week_figures(inputs_of(plan, self.org), self.behaviour.min_group_size)
        self.stats.spent["deciding"] += time.perf_counter() - began
        week = str(plan.week)
        loader.rows("releases", ("week", "min_group_size", "rule_version", "basis", "released_at"),
                    [(week, self.behaviour.min_group_size, RULE_VERSION, "snapshot", final_at(week))])
        loader.rows("released_figures", ("week", "measure", "scope", "label", "people", "total", "counts"),
                    ((week, f.measure, f.scope, f.label, f.people, f.total,
                      json.dumps(f.counts) if loader.postgres else f.counts) for f in figures))

    def _raw(self, loader: Loader, plan: WeekPlan) -> None:
        """A week to be released: its raw rows, pseudonymised and sealed as the app stores them."""
        began = time.perf_counter()
        week, round_id = str(plan.week), self.round_ids[str(plan.week)]
        users = {m.id: m.user_id for m in self.org.people}
        who = {m.id: week_pseudonym(KEY, week, m.user_id) for m in self.org.active}
        sent_at = _at(plan.week, 2, 10)
        deliveries = []
        for person, ok in plan.deliveries:
            number = self._next("deliveries")
            deliveries.append((number, round_id, person, "sent" if ok else "failed", f"D{person:08d}" if ok else None,
                               f"{number}.000100" if ok else None, sent_at, sent_at if ok else None,
                               None if ok else "user_not_found"))
        responses = [
            (random_id(), round_id, who[person],
             seal(KEY, {"answers": answers, "comment": comment, "skipped": skipped}, context=f"responses:{week}:{who[person]}"))
            for person, skipped, answers, comment in plan.responses
        ]
        hidden, credit = [], []
        for person, category, minutes, tool, note, shared in plan.hidden:
            if shared:
                credit.append((self._next("credit_reports"), person, week, category, minutes, tool, note))
            else:
                payload = {"category": category, "minutes": minutes, "tool": tool, "note": note}
                hidden.append((random_id(), week, who[person],
                               seal(KEY, payload, context=f"hidden_work_reports:{week}:{who[person]}")))
        ratings = []
        for person, key, first, helpful in plan.ratings:
            rater = explainer_pseudonym(KEY, key, users[person])
            ratings.append((random_id(), key, rater, week,
                            seal(KEY, {"helpful": helpful, "first_helpful": first}, context=f"explainer_feedback:{key}:{rater}")))
        self.stats.spent["sealing"] += time.perf_counter() - began
        loader.rows("week_roster", ("week", "person_id", "team_path", "level"),
                    ((week, m.id, m.path, m.level) for m in self.org.active))
        loader.rows("deliveries", ("id", "round_id", "person_id", "status", "channel_id", "message_ts", "claimed_at",
                                   "sent_at", "error"), deliveries)
        loader.rows("responses", ("id", "round_id", "pseudonym", "sealed"), responses)
        loader.rows("hidden_work_reports", ("id", "week", "pseudonym", "sealed"), hidden)
        loader.rows("credit_reports", ("id", "person_id", "week", "category", "minutes", "tool", "note"), credit)
        loader.rows("explainer_feedback", ("id", "explainer_key", "pseudonym", "first_week", "sealed"), ratings)


@contextlib.contextmanager
def database(kind: str, label: str, folder: Path) -> Iterator[str]:
    """The URL of a database of its own, migrated to head by the real migrations, removed afterwards."""
    place = folder / f"digest-{label}"
    place.mkdir(exist_ok=True)
    with fresh_database(POSTGRES_URL if kind == "postgresql" else None, place) as url:
        yield url


# ---------------------------------------------------------------- the release, in a process of its own


@dataclass
class ReleaseTiming:
    database: str
    history: int
    week: str
    people: int
    seconds: float
    cpu: float  # the releasing process's CPU (not the database server's)
    parts: dict[str, float]
    peak_mb: float  # peak resident memory of the releasing process
    start_mb: float  # ... when it began the release (interpreter and imports)
    figures: int
    profile: str = ""
    shape: str = ""  # what the week's inputs held


RELEASE_PARTS = {  # (module, function) → label; gather's parts are inside gather
    ("bot.release.service", "gather"): "gather",
    ("bot.release.inputs", "_pulse"): "  pulse",
    ("bot.release.inputs", "_hidden_work"): "  hidden work",
    ("bot.release.inputs", "_explainers"): "  explainers",
    ("bot.release.service", "week_figures"): "decide",
    ("bot.release.service", "_rewrite_in_random_order"): "rewrite raw rows",
}


def release_child(url: str, week: str, at: dt.datetime, min_size: int, profile: bool) -> dict[str, Any]:
    """Run in a fresh process: release one week with `release_week`, timed part by part."""
    import importlib

    from bot.release import service

    spent: dict[str, float] = defaultdict(float)
    for (module_name, name), label in RELEASE_PARTS.items():
        module = importlib.import_module(module_name)
        setattr(module, name, _timed(getattr(module, name), label, spent))
    db = Database(url)
    try:
        with db.session() as session:  # connect (and warm the pool) before the clock starts
            session.execute(select(1))
        start_mb = _memory("VmRSS")
        _reset_peak()
        profiler = cProfile.Profile() if profile else None
        cpu, started = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        assert service.release_week(db, KEY, week, min_size, at=at)
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        with db.session() as session:
            figures = len(session.scalars(select(ReleasedFigure.id).where(ReleasedFigure.week == week)).all())
    finally:
        db.dispose()
    parts = dict(spent)
    parts["write (claim, figures, commit)"] = seconds - sum(v for k, v in spent.items() if not k.startswith(" "))
    return {"seconds": seconds, "cpu": cpu, "parts": parts, "figures": figures, "start_mb": start_mb,
            "peak_mb": _memory("VmHWM"), "profile": _stats(profiler) if profiler else ""}


def _memory(field: str) -> float:
    """MB of this process from /proc/self/status (VmRSS now, VmHWM its peak); where there is no
    /proc, the peak from getrusage (which, after a fork, starts at the parent's size)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    """Start the peak (VmHWM) from the current size, so it is the release's, not the start-up's."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _timed(function: Callable[..., Any], label: str, spent: dict[str, float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            result = function(*args, **kwargs)
            return list(result) if inspect.isgenerator(result) else result
        finally:
            spent[label] += time.perf_counter() - started
    return timed


def _stats(profiler: cProfile.Profile, lines: int = 30) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


def release(kind: str, history: History, week: str, at: dt.datetime, profile: bool) -> ReleaseTiming:
    from bench import digest as importable  # the child finds `release_child` by this name, not as __main__

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        found = pool.submit(importable.release_child, history.url, week, at, history.behaviour.min_group_size,
                            profile).result()
    timing = ReleaseTiming(kind, len(history.weeks), week, len(history.org.active), **found, shape=shape(history, week))
    check_release(history, week)
    db = Database(history.url)
    try:
        vacuum(db)
    finally:
        db.dispose()
    return timing


def shape(history: History, week: str) -> str:
    """The week's inputs in a line: the release's cost follows them."""
    inputs = history.plans[week]
    rated = sorted(inputs.ratings)
    db = Database(history.url)
    try:
        with db.session() as session:
            sends = session.scalar(
                select(func.count()).select_from(ExplainerDelivery).where(
                    ExplainerDelivery.explainer_key.in_(rated), ExplainerDelivery.status == "sent"
                )
            ) or 0
    finally:
        db.dispose()
    return (f"{len(inputs.sent):,} sent the pulse, {len(inputs.answered):,} answered, {len(inputs.hidden):,} logged hidden "
            f"work, {sum(len(r) for r in inputs.ratings.values()):,} first ratings of {len(rated)} explainers "
            f"sent to {sends:,} people in all")


def check_release(history: History, week: str) -> None:
    """The real release of a raw week gave exactly the figures the short cut computes from the
    same generated inputs: the already released weeks are what the release would have written."""
    expected = _comparable(week_figures(history.plans[week], history.behaviour.min_group_size))
    db = Database(history.url)
    try:
        with db.session() as session:
            stored = session.execute(
                select(ReleasedFigure.measure, ReleasedFigure.scope, ReleasedFigure.label, ReleasedFigure.people,
                       ReleasedFigure.total, ReleasedFigure.counts).where(ReleasedFigure.week == week)
            ).all()
    finally:
        db.dispose()
    found = _comparable(Figure(*row) for row in stored)
    if found != expected:
        missing, extra = expected - found, found - expected
        raise SystemExit(f"{week}: the release differs from the short cut: {len(missing)} figures missing "
                         f"(e.g. {sorted(missing)[:2]}), {len(extra)} unexpected (e.g. {sorted(extra)[:2]})")


def _comparable(figures: Iterable[Figure]) -> set[tuple[Any, ...]]:
    return {(f.measure, f.scope, f.label, f.people, round(f.total, 6), json.dumps(f.counts or {}, sort_keys=True))
            for f in figures}


# ---------------------------------------------------------------- the digest


DIGEST_PARTS = (  # nested parts (indented) are inside the one above them
    ("released", "released (12 weeks' figures)"),
    ("_groups", "teams"),
    ("_alerts", "alerts"),
    ("_rollouts", "rollouts"),
    ("list_rollouts", "  list_rollouts"),
    ("latest_decisions", "  latest_decisions"),
    ("_explainers", "explainers"),
    ("explainer_totals", "  explainer_totals"),
    ("_open_questions", "open questions"),
    ("trend_chart", "chart PNG"),
)


@contextlib.contextmanager
def timed_parts(names: Sequence[str]) -> Iterator[dict[str, float]]:
    """Wrap functions the digest module calls so each call's wall time is added up per name."""
    spent: dict[str, float] = defaultdict(float)
    originals = {name: getattr(digest_module, name) for name in names}
    for name, function in originals.items():
        setattr(digest_module, name, _timed(function, name, spent))
    try:
        yield spent
    finally:
        for name, function in originals.items():
            setattr(digest_module, name, function)


@dataclass
class Timing:
    """One database and history: each timed digest's wall time, chart rendering and CPU in this process."""

    database: str
    weeks: int
    load: LoadStats
    released: list[ReleaseTiming] = field(default_factory=list)
    totals: list[float] = field(default_factory=list)  # build_digest, chart PNG included
    charts: list[float] = field(default_factory=list)  # of which rendering the PNG
    cpu: list[float] = field(default_factory=list)  # this process's CPU time (not the database server's)
    parts: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    figures: int = 0  # released figures the digest read

    @property
    def nets(self) -> list[float]:
        return [total - chart for total, chart in zip(self.totals, self.charts)]

    @property
    def digest(self) -> float:
        """Median seconds to compute the digest and its chart data, without rendering the PNG."""
        return statistics.median(self.nets)

    @property
    def total(self) -> float:
        return statistics.median(self.totals)

    @property
    def chart(self) -> float:
        return statistics.median(self.charts)

    def part(self, name: str) -> float:
        return statistics.median(self.parts[name]) if self.parts.get(name) else 0.0


def measure_once(db: Database, behaviour: Behaviour, library: Library, week: IsoWeek, at: dt.datetime,
                 timing: Timing, breakdown: bool) -> None:
    names = [name for name, _ in DIGEST_PARTS] if breakdown else ["trend_chart"]
    with timed_parts(names) as spent:
        cpu = time.process_time()
        started = time.perf_counter()
        result, png = build_digest(db, behaviour, library, week, KEY, at=at)
        timing.totals.append(time.perf_counter() - started)
        timing.cpu.append(time.process_time() - cpu)
    timing.charts.append(spent.get("trend_chart", 0.0))
    for name, seconds in spent.items():
        timing.parts[name].append(seconds)
    assert result.week == str(week) and png is not None and not result.suppressed and not result.open_week, result


def profile_digest(db: Database, behaviour: Behaviour, library: Library, week: IsoWeek, at: dt.datetime) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    build_digest(db, behaviour, library, week, KEY, at=at)
    profiler.disable()
    return _stats(profiler)


# ---------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.digest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, help="people in the organisation (default 100,000 on PostgreSQL, "
                        "20,000 on SQLite)")
    parser.add_argument("--teams", type=int, default=150, help="teams, in three levels (default 150)")
    parser.add_argument("--weeks", type=int, default=52, help="the long history in weeks (default 52)")
    parser.add_argument("--short-weeks", type=int, default=4, help="the short history in weeks (default 4)")
    parser.add_argument("--also-weeks", type=int, action="append", metavar="N",
                        help="another history to time, for information (default 12, the chart's whole window, "
                        "when it lies between the two; 0 for none)")
    parser.add_argument("--raw-weeks", type=int, default=1, help="weeks at the end of each history loaded raw and "
                        "released for real, each release timed (default 1)")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="postgresql")
    parser.add_argument("--repeat", type=int, default=5, help="timed digests per database and history (median shown)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--breakdown", action="store_true", help="also show the median time of each part of the digest")
    parser.add_argument("--profile", action="store_true",
                        help="print a cProfile of the long history's (last) release and of one of its digests")
    args = parser.parse_args(argv)
    if args.also_weeks is None:
        args.also_weeks = [n for n in (digest_module.CHART_WEEKS,) if args.short_weeks < n < args.weeks]
    args.also_weeks = [n for n in args.also_weeks if n]
    if not 1 <= args.short_weeks < args.weeks or any(not 1 <= n <= args.weeks for n in args.also_weeks):
        parser.error("histories run from 1 week to --weeks, and --short-weeks must be below --weeks")
    if (args.people is not None and args.people < 100) or args.repeat < 1 or args.teams < len(DIVISIONS):
        parser.error(f"--people must be at least 100, --teams at least {len(DIVISIONS)}, --repeat at least 1")
    if not 1 <= args.raw_weeks <= args.short_weeks or (args.profile and args.raw_weeks >= args.weeks):
        parser.error("--raw-weeks runs from 1 to --short-weeks (and, with --profile, stays below --weeks)")

    kinds = ("postgresql", "sqlite") if args.database == "both" else (args.database,)
    histories = sorted({args.short_weeks, args.weeks, *args.also_weeks})
    behaviour = load_behaviour(None)
    reported = IsoWeek.of(now().date()).shifted(-1)
    at = final_at(str(reported)) + dt.timedelta(hours=1)
    library, published = bench_library(reported, args.weeks)
    print(f"Release and digest of {reported} (clock: {at:%Y-%m-%d %H:%M} UTC); histories of "
          f"{', '.join(map(str, histories))} weeks, the last {args.raw_weeks} loaded raw and released for real; "
          f"{len(library)} explainers; {args.repeat} timed digests each; k = {behaviour.min_group_size}.", flush=True)

    timings: list[Timing] = []
    began = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="pulse-bench-digest-"))
    try:
        for kind in kinds:
            people = args.people or DEFAULT_PEOPLE[kind]
            org = organisation(people, args.teams, args.seed, reported)
            sizes = Counter(m.team_id for m in org.active)
            print(f"{kind}: {len(org.people):,} people ({len(org.active):,} active) in {len(org.teams)} teams "
                  f"(largest {max(sizes.values()):,}, smallest {min(sizes.values())}, "
                  f"{sum(1 for n in sizes.values() if n < behaviour.min_group_size)} under k)", flush=True)
            timings += run_database(kind, histories, folder, org, behaviour, library, published, reported, at, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    failed = report(timings, args.short_weeks, args.weeks, args.breakdown)
    print(f"whole run: {(time.perf_counter() - began) / 60:.1f} min")
    return failed


def run_database(kind: str, histories: Sequence[int], folder: Path, org: Organisation, behaviour: Behaviour,
                 library: Library, published: dict[str, int], reported: IsoWeek, at: dt.datetime,
                 args: argparse.Namespace) -> list[Timing]:
    """Load one database per history and release its raw weeks, then time their digests in turn
    (so load on the machine falls on every history alike), then remove them."""
    with contextlib.ExitStack() as stack:
        databases: list[tuple[Timing, Database]] = []
        for weeks in histories:
            url = stack.enter_context(database(kind, f"{weeks}w", folder))
            span = [reported.shifted(-back) for back in range(weeks - 1, -1, -1)]
            # With --profile the long history has one more raw week, released first under cProfile
            # and left out of the timings (the profiler slows it down).
            profiled = 1 if args.profile and weeks == args.weeks else 0
            raw = args.raw_weeks + profiled
            history = History(url, org, behaviour, library, published, span, raw, args.seed)
            history.load()
            stats = history.stats
            print(f"  {kind:<10} {weeks:>3} weeks loaded in {stats.seconds:6.1f} s "
                  f"({', '.join(f'{name} {s:.1f} s' for name, s in stats.spent.items())}): {_rows(stats)}", flush=True)
            timing = Timing(kind, weeks, stats)
            for number, week in enumerate(span[-raw:]):
                profile = number < profiled
                done = release(kind, history, str(week), at, profile)
                if not profile:
                    timing.released.append(done)
                print(f"  {kind:<10} {weeks:>3} weeks: released {week}{' under cProfile' if profile else ''} in "
                      f"{done.seconds:5.1f} s ({done.figures:,} figures, "
                      f"{'; '.join(f'{k.strip()} {v:.1f} s' for k, v in done.parts.items())}; peak memory "
                      f"{done.peak_mb:,.0f} MB, {done.start_mb:,.0f} MB before); same figures as the short cut; "
                      f"inputs: {done.shape}", flush=True)
                if done.profile:
                    print(done.profile)
            history.plans.clear()
            db = Database(url)
            stack.callback(db.dispose)
            with db.session() as session:
                timing.figures = session.scalar(
                    select(func.count()).select_from(ReleasedFigure).where(
                        ReleasedFigure.week >= str(reported.shifted(-digest_module.CHART_WEEKS + 1))
                    )
                ) or 0
            databases.append((timing, db))
        for timing, db in databases:  # one untimed digest each: connections, caches, matplotlib
            build_digest(db, behaviour, library, reported, KEY, at=at)
        # The benchmark's own heap (the organisation: 100,000 people) is no part of a digest job's
        # process: frozen, the garbage collector does not walk it in the middle of a timed digest.
        gc.collect()
        gc.freeze()
        profiles: dict[int, str] = {}
        try:
            for _ in range(args.repeat):
                for timing, db in databases:
                    measure_once(db, behaviour, library, reported, at, timing, args.breakdown)
            if args.profile:
                profiles = {t.weeks: profile_digest(db, behaviour, library, reported, at)
                            for t, db in databases if t.weeks == args.weeks}
        finally:
            gc.unfreeze()
        for timing, db in databases:
            print(f"  {kind:<10} {timing.weeks:>3} weeks digest ({timing.figures:,} released figures in its window): "
                  f"median {timing.digest:.3f} s + chart {timing.chart:.3f} s "
                  f"(runs without the chart: {', '.join(f'{t:.3f}' for t in timing.nets)})", flush=True)
            if timing.weeks in profiles:
                print(profiles[timing.weeks])
        return [timing for timing, _ in databases]


def _rows(stats: LoadStats) -> str:
    shown = ("released_figures", "explainer_deliveries", "week_roster", "deliveries", "responses",
             "hidden_work_reports", "credit_reports", "explainer_feedback")
    return ", ".join(f"{stats.rows[name]:,} {name}" for name in shown)


def _verdict(ok: bool) -> str:
    return "met    " if ok else "not met"


def report(timings: list[Timing], short: int, long: int, breakdown: bool) -> int:
    """The tables, then met / not met per budget; 1 when a budget is not met."""
    print()
    print("release s: release_week of one week, in a process of its own (median over the raw weeks released);")
    print("digest s: build_digest with its chart data, steady state, median; chart s: rendering the PNG; cpu s: this process")
    print(f"{'database':<11} {'history':>7} {'people':>8} {'load s':>7} {'release s':>10} {'peak MB':>8} "
          f"{'digest s':>9} {'min s':>7} {'max s':>7} {'chart s':>8} {'total s':>8} {'cpu s':>6}")
    for t in timings:
        people = t.released[0].people if t.released else 0
        print(f"{t.database:<11} {t.weeks:>5} w {people:>8,} {t.load.seconds:>7.1f} "
              f"{statistics.median(r.seconds for r in t.released):>10.1f} {max(r.peak_mb for r in t.released):>8,.0f} "
              f"{t.digest:>9.3f} {min(t.nets):>7.3f} {max(t.nets):>7.3f} {t.chart:>8.3f} {t.total:>8.3f} "
              f"{statistics.median(t.cpu):>6.3f}")
    print()
    print(f"{'release, median s':<30}" + "".join(f" {t.database[:6]:>6} {t.weeks:>2}w" for t in timings))
    for label in [*dict.fromkeys(k for t in timings for r in t.released for k in r.parts)]:
        print(f"{label:<30}" + "".join(f" {statistics.median(r.parts.get(label, 0.0) for r in t.released):>10.2f}"
                                        for t in timings))
    if breakdown:
        print()
        print(f"{'digest, median s per part':<30}" + "".join(f" {t.database[:6]:>6} {t.weeks:>2}w" for t in timings))
        for name, label in DIGEST_PARTS:
            print(f"{label:<30}" + "".join(f" {t.part(name):>10.3f}" for t in timings))
    print()
    failed = False
    by_key = {(t.database, t.weeks): t for t in timings}
    for kind in dict.fromkeys(t.database for t in timings):
        if kind == "postgresql":
            releases = [r for t in timings if t.database == kind for r in t.released]
            seconds = statistics.median(r.seconds for r in releases)
            people = releases[0].people
            ok = seconds <= BUDGET_RELEASE
            judged = people >= BUDGET_PEOPLE * 0.98  # 1% of the organisation is inactive, on no roster
            failed |= judged and not ok
            print(f"{_verdict(ok) if judged else 'n/a    '}  postgresql: releasing one week for {people:,} people: "
                  f"{seconds:.1f} s, median of {len(releases)} (budget {BUDGET_RELEASE:.0f} s at {BUDGET_PEOPLE:,} people"
                  + (")" if judged else "; too few people here to judge)"))
            for t in (by_key[(kind, short)], by_key[(kind, long)]):
                ok = t.digest <= BUDGET_DIGEST
                failed |= not ok
                print(f"{_verdict(ok)}  postgresql, {t.weeks} weeks: digest {t.digest:.3f} s "
                      f"(budget {BUDGET_DIGEST:.1f} s; {t.total:.3f} s with the chart rendered)")
        large = by_key[(kind, long)]
        ratio = large.digest / by_key[(kind, short)].digest
        ok = ratio <= BUDGET_RATIO
        failed |= not ok
        print(f"{_verdict(ok)}  {kind}, digest over {long} weeks / over {short} weeks: {ratio:.2f}x (budget {BUDGET_RATIO:.1f}x)")
        for t in timings:
            if t.database == kind and t.weeks not in (short, long):
                print(f"info     {kind}, {long} weeks / {t.weeks} weeks: {large.digest / t.digest:.2f}x")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
