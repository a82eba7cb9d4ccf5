"""Benchmark 3: the council digest of the latest week, with 4 and with 52 weeks of history.

The promise: a digest over years of history for tens of thousands of people is computed in about
a second, and its cost follows the week's data, not the history's size. This builds a synthetic
organisation (20,000 people in 150 teams by default) with bulk inserts into databases made by the
real migrations, one per history length, all ending in the same week, and times `build_digest`,
the function the digest job and `pulse digest show` call. The digest's time includes computing
the chart's data; rendering the PNG (constant, a third of a second or more) is shown beside it.
Budgets: the digest in at most 1 s on PostgreSQL, and the long history at most 1.5x the short one.

    python -m bench.digest                                   # 20,000 people, 4 and 52 weeks, both databases
    python -m bench.digest --people 2000 --weeks 12 --database sqlite --repeat 3   # a quick run
    python -m bench.digest --also-weeks 12 --breakdown       # a full chart window too; time per part
    python -m bench.digest --database postgresql --profile   # cProfile of one 52-week digest

PostgreSQL is reached at PULSE_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@localhost:5432/test);
the benchmark works in schemas of its own and drops them afterwards. SQLite files go to a
temporary folder that is removed afterwards.

Each history is a separate database, as an organisation that started 4 (or 52) weeks ago would
have; the pulse data of a given week is the same in both. PostgreSQL gets VACUUM ANALYZE after
the load, as autovacuum would do; SQLite gets nothing the application does not do itself.
The first digest on each database is timed on its own ("cold"): no week's figures are kept yet,
so it counts every settled week of its window from the answers and keeps them. Then every other
settled week of the history is kept too, untimed, as the weekly digests of an organisation
running the app would have done week by week. The timed digests that follow are the steady
state: settled weeks read from their kept figures, the week just reported (and any week not yet
settled) counted from its answers. Nothing else is cached between timed runs: each calls
`build_digest` afresh, and the histories take turns so that load from elsewhere on the machine
falls on each alike. The digest reads the clock like the digest job: run it after Monday 12:00
UTC, when last week's round has closed and the week before has settled. The digest reads 12 weeks
(its chart), so a 4-week history has a third of that window to read: `--also-weeks 12` shows how
much of the difference is the window filling up rather than the history growing.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/digest.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection

import bot.reports.digest as digest_module
from bot.reports.aggregates import settle_weeks, settles_at
from bench.common import fresh_database
from bot.db import Base, Database
from bot.explainers.library import Explainer, Library, load_library, reading_order
from bot.models import (
    WORK_CATEGORIES,
    Answer,
    Delivery,
    DigestPost,
    ExplainerDelivery,
    ExplainerFeedback,
    ExplainerQuestion,
    HiddenWorkReport,
    Manager,
    Person,
    PulseRound,
    QuestionSet,
    Response,
    Rollout,
    RolloutDecision,
    RolloutTeam,
    Team,
)
from bot.privacy import pseudonym
from bot.reports.digest import build_digest
from bot.settings import Behaviour, Question, load_behaviour
from bot.surveys.bank import freeze, questions_for_week
from bot.weeks import UTC, IsoWeek, now, round_closes_at

POSTGRES_URL = os.environ.get("PULSE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@localhost:5432/test")
BUDGET_SECONDS = 1.0  # PostgreSQL: the digest with its chart data, the PNG not rendered
BUDGET_RATIO = 1.5  # long history / short history, each database

KEY = b"bench-digest-pseudonym-key-0123456789"
LEVELS = ("entry", "entry", "experienced", "experienced", "experienced", "lead")
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
CUSTOM_EVERY_WEEKS = 2  # the organisation publishes an explainer of its own every other week
ROLLOUTS = (  # name, divisions covered, go-live in weeks before the reported week
    ("Forecast assistant", ("Sales", "Finance"), 10),
    ("Support assistant", ("Support", "Operations"), 3),
    ("Code review bot", ("Engineering", "Product"), 30),
)


# ---------------------------------------------------------------- the organisation


@dataclass(frozen=True)
class Member:
    id: int
    user_id: str
    team_id: int
    level: str
    pseudonym: str
    answers_rate: float  # how likely this person answers a given week's pulse
    go_live: int | None  # the ordinal of the go-live week of the rollout covering their team


@dataclass
class Organisation:
    teams: list[dict[str, Any]]
    people: list[Member]
    inactive: set[int]  # person ids deactivated: no pulse, no explainer
    division_ids: dict[str, int]


def organisation(people: int, seed: int, reported: IsoWeek) -> Organisation:
    """About one team per 130 people (150 for 20,000) in three levels: division, department, squad."""
    rng = random.Random(f"{seed}:organisation")
    team_count = max(len(DIVISIONS), round(people / 133))
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
    while len(teams) < team_count:
        if not departments or rng.random() < 0.45:
            departments.append(add(f"Department {len(teams) + 1}", rng.choice(divisions)))
        else:
            add(f"Squad {len(teams) + 1}", rng.choice(departments))
    # Skewed team sizes, a few below the minimum group size so that suppression has work to do.
    weights = [rng.lognormvariate(0, 0.9) * (0.15 if rng.random() < 0.08 else 1) for _ in teams]
    team_ids = rng.choices([t["id"] for t in teams], weights=weights, k=people)
    paths = {t["id"]: t["path"] for t in teams}
    go_lives = {
        division_ids[d]: reported.shifted(-ago).ordinal for _, covered, ago in ROLLOUTS for d in covered
    }

    def go_live(team_id: int) -> int | None:
        return go_lives.get(division_ids[paths[team_id].split("/")[0]])

    team_rate = {t["id"]: min(0.95, max(0.25, rng.gauss(0.66, 0.12))) for t in teams}
    members = []
    for index, team_id in enumerate(team_ids):
        user_id = f"UB{index + 1:08d}"
        members.append(
            Member(
                id=index + 1,
                user_id=user_id,
                team_id=team_id,
                level=rng.choice(LEVELS),
                pseudonym=pseudonym(KEY, user_id),
                answers_rate=min(0.98, max(0.05, rng.gauss(team_rate[team_id], 0.15))),
                go_live=go_live(team_id),
            )
        )
    inactive = {m.id for m in members if rng.random() < 0.01}
    return Organisation(teams, members, inactive, division_ids)


def bench_library(reported: IsoWeek, weeks: int) -> tuple[Library, dict[str, int]]:
    """The shipped explainers plus one of the organisation's own every other week of the last year.

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


# ---------------------------------------------------------------- building the database


@dataclass
class BuildStats:
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _insert(connection: Connection, table: Any, rows: list[dict[str, Any]], stats: BuildStats, chunk: int = 20_000) -> None:
    for start in range(0, len(rows), chunk):
        connection.execute(insert(table), rows[start : start + chunk])
    stats.rows[table.name] += len(rows)


def _at(week: IsoWeek, weekday: int, hour: float) -> dt.datetime:
    return dt.datetime.combine(week.day(weekday), dt.time(0), tzinfo=UTC) + dt.timedelta(hours=hour)


def build(url: str, org: Organisation, behaviour: Behaviour, library: Library, published: dict[str, int],
          weeks: Sequence[IsoWeek], seed: int) -> BuildStats:
    """The organisation and its weekly history, with Core bulk inserts (executemany).

    The load has an engine of its own, so nothing it sets touches the engine the digest is timed on.
    """
    stats = BuildStats()
    started = time.perf_counter()
    reported = weeks[-1]
    db = Database(url)
    # psycopg's executemany sends one INSERT per row; multi-row VALUES pages (what SQLAlchemy
    # does for psycopg2) load PostgreSQL several times faster.
    db.engine.dialect.use_insertmanyvalues_wo_returning = True
    try:
        _load(db, org, behaviour, library, published, weeks, reported, seed, stats)
    finally:
        db.dispose()
    stats.seconds = time.perf_counter() - started
    return stats


def _load(db: Database, org: Organisation, behaviour: Behaviour, library: Library, published: dict[str, int],
          weeks: Sequence[IsoWeek], reported: IsoWeek, seed: int, stats: BuildStats) -> None:
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL synchronous_commit = off"))
        _insert(connection, Team.__table__, org.teams, stats)
        _insert(connection, Person.__table__, [
            {"id": m.id, "slack_user_id": m.user_id, "email": f"{m.user_id.lower()}@bench.example",
             "team_id": m.team_id, "level": m.level, "is_council": m.id % 2000 == 1,
             "tz": ZONES[m.id % len(ZONES)], "active": m.id not in org.inactive, "away": False,
             "away_until": None, "paused_until": None}
            for m in org.people
        ], stats)
        managers, seen = [], set()
        for m in org.people:
            if m.team_id not in seen:
                seen.add(m.team_id)
                managers.append({"person_id": m.id, "team_id": m.team_id})
        _insert(connection, Manager.__table__, managers, stats)
        _rollouts(connection, org, reported, stats)
        sets, rounds = _rounds(connection, behaviour, weeks, stats)
        keys = [e.key for e in library]
        unread = {m.id: list(keys) for m in org.people}  # each person's explainers not yet sent, in reading order
        for week in weeks:
            _week(connection, org, week, rounds[str(week)], sets[str(week)], published,
                  unread, random.Random(f"{seed}:{week}"), stats)
        _insert(connection, DigestPost.__table__, [
            {"week": str(w), "status": "posted", "channel_id": "CCOUNCIL", "message_ts": f"{w.ordinal}.000500",
             "claimed_at": _at(w.shifted(1), 1, 14), "posted_at": _at(w.shifted(1), 1, 14)}
            for w in weeks[:-1]
        ], stats)
        if connection.dialect.name == "postgresql":
            for table in ("teams", "people", "rollouts", "question_sets", "pulse_rounds", "deliveries", "responses",
                          "answers", "hidden_work_reports", "explainer_deliveries", "explainer_feedback",
                          "explainer_questions", "digest_posts", "rollout_decisions"):
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
                ))
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does after a bulk load, here at once and only for this schema's tables.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            connection.execute(text(f"VACUUM ANALYZE {tables}"))


def _rollouts(connection: Connection, org: Organisation, reported: IsoWeek, stats: BuildStats) -> None:
    rollouts, covered, decisions = [], [], []
    for number, (name, divisions, ago) in enumerate(ROLLOUTS, start=1):
        go_live = reported.shifted(-ago).day(2)
        rollouts.append({"id": number, "name": name, "go_live": go_live,
                         "created_at": _at(reported.shifted(-ago - 2), 1, 9)})
        covered += [{"rollout_id": number, "team_id": org.division_ids[d]} for d in divisions]
        for back in range(min(ago, 4), 0, -1):
            decided = reported.shifted(-back)
            decisions.append({"rollout_id": number, "week": str(decided), "decision": ("continue", "review")[back % 2],
                              "decided_by": "UB00000001", "decided_at": _at(decided.shifted(1), 1, 15)})
    _insert(connection, Rollout.__table__, rollouts, stats)
    _insert(connection, RolloutTeam.__table__, covered, stats)
    _insert(connection, RolloutDecision.__table__, decisions, stats)


def _rounds(connection: Connection, behaviour: Behaviour, weeks: Sequence[IsoWeek],
            stats: BuildStats) -> tuple[dict[str, list[Question]], dict[str, int]]:
    """Each week's frozen question set (rotation makes a handful of distinct ones) and round."""
    sets: dict[str, list[Question]] = {}
    set_ids: dict[str, int] = {}
    set_rows, round_rows = [], []
    for week in weeks:
        questions = questions_for_week(behaviour.questions, week)
        digest, payload = freeze(questions)
        if digest not in set_ids:
            set_ids[digest] = len(set_ids) + 1
            set_rows.append({"id": set_ids[digest], "digest": digest, "questions": payload,
                             "created_at": _at(week, 2, 9)})
        sets[str(week)] = questions
        round_rows.append({"id": len(round_rows) + 1, "week": str(week), "question_set_id": set_ids[digest],
                           "closes_at": round_closes_at(week), "created_at": _at(week, 2, 9)})
    _insert(connection, QuestionSet.__table__, set_rows, stats)
    _insert(connection, PulseRound.__table__, round_rows, stats)
    return sets, {row["week"]: row["id"] for row in round_rows}


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


def _week(connection: Connection, org: Organisation, week: IsoWeek, round_id: int, questions: list[Question],
          published: dict[str, int], unread: dict[int, list[str]], rng: random.Random,
          stats: BuildStats) -> None:
    """One week: pulses sent and answered, hidden work logged, explainers read and rated."""
    name, ordinal = str(week), week.ordinal
    sent_at, read_at = _at(week, 2, 10), _at(week, 4, 10)
    logged_at = [_at(week, day, hour + 0.5) for day in range(1, 6) for hour in range(8, 18)]
    closed = [q for q in questions if q.kind != "text"]
    has_comment = any(q.kind == "text" for q in questions)
    dips = {go_live: _dip(None if go_live is None else ordinal - go_live) for go_live in {m.go_live for m in org.people}}
    available = {key for key, since in published.items() if since <= ordinal}
    deliveries, responses, answers, hidden = [], [], [], []
    explainers, feedback, asked = [], [], []
    next_response = _next_id(connection, Response)
    next_delivery = _next_id(connection, Delivery)
    for member in org.people:
        if member.id in org.inactive:
            continue
        dip = dips[member.go_live]
        paused = rng.random() < 0.01
        if not paused:
            failed = rng.random() < 0.005
            deliveries.append({
                "id": next_delivery, "round_id": round_id, "person_id": member.id, "team_id": member.team_id,
                "status": "failed" if failed else "sent", "channel_id": None if failed else f"D{member.id:08d}",
                "message_ts": None if failed else f"{next_delivery}.000100", "claimed_at": sent_at,
                "sent_at": None if failed else sent_at, "reminded_at": None,
                "error": "user_not_found" if failed else None,
            })
            next_delivery += 1
            if not failed and rng.random() < member.answers_rate:
                skipped = rng.random() < 0.04
                responses.append({"id": next_response, "round_id": round_id, "pseudonym": member.pseudonym,
                                  "team_id": member.team_id, "level": member.level, "skipped": skipped,
                                  "updated_at": sent_at + dt.timedelta(minutes=rng.randrange(96 * 60))})
                if not skipped:
                    for question in closed:
                        if rng.random() < 0.97:
                            answers.append({"response_id": next_response, "question_key": question.key,
                                            "value": _value(rng, question, dip), "text": None})
                    if has_comment and rng.random() < 0.04:
                        answers.append({"response_id": next_response, "question_key": "comment", "value": None,
                                        "text": rng.choice(COMMENTS)})
                next_response += 1
        if rng.random() < 0.3:
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                shared = rng.random() < 0.1
                minutes = rng.choice((10, 15, 20, 30, 45, 60, 90, 120))
                hidden.append({"pseudonym": member.pseudonym, "week": name, "team_id": member.team_id,
                               "level": member.level, "category": rng.choice(WORK_CATEGORIES),
                               "minutes": int(minutes * (1.6 if dip > 0.3 else 1)), "tool": rng.choice(TOOLS),
                               "note": "checked the draft before it went out" if rng.random() < 0.2 else None,
                               "shared_with_manager": shared, "person_id": member.id if shared else None,
                               "created_at": rng.choice(logged_at)})
        if not paused and rng.random() < 0.9:
            waiting = unread[member.id]
            key = next((k for k in waiting if k in available), None)
            if key is not None:
                waiting.remove(key)
                explainers.append({"person_id": member.id, "explainer_key": key, "week": name,
                                   "status": "sent", "channel_id": f"D{member.id:08d}",
                                   "message_ts": f"{ordinal}{member.id:08d}.000300", "claimed_at": read_at,
                                   "sent_at": read_at, "error": None})
                if rng.random() < 0.45:
                    feedback.append({"explainer_key": key, "pseudonym": member.pseudonym, "team_id": member.team_id,
                                     "level": member.level, "helpful": rng.random() < 0.7,
                                     "updated_at": read_at + dt.timedelta(minutes=rng.randrange(72 * 60))})
                if rng.random() < 0.003:
                    named = rng.random() < 0.3
                    asked.append({"explainer_key": key, "text": "Who signs off on the assistant's output now?",
                                  "person_id": member.id if named else None,
                                  "asked_at": read_at + dt.timedelta(minutes=rng.randrange(72 * 60)),
                                  "channel_id": "CCOUNCIL", "message_ts": f"{ordinal}{member.id:08d}.000400"})
    for table, rows in ((Delivery, deliveries), (Response, responses), (Answer, answers),
                        (HiddenWorkReport, hidden), (ExplainerDelivery, explainers),
                        (ExplainerFeedback, feedback), (ExplainerQuestion, asked)):
        _insert(connection, table.__table__, rows, stats)


def _next_id(connection: Connection, model: Any) -> int:
    return int(connection.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1


# ---------------------------------------------------------------- databases


@contextlib.contextmanager
def database(kind: str, label: str, folder: Path) -> Iterator[str]:
    """The URL of a database of its own, migrated to head by the real migrations, removed afterwards."""
    place = folder / f"digest-{label}"
    place.mkdir(exist_ok=True)
    with fresh_database(POSTGRES_URL if kind == "postgresql" else None, place) as url:
        yield url


# ---------------------------------------------------------------- timing


PARTS = ("team_tree", "planned_weeks", "level_weeks", "explainer_results", "list_rollouts", "covered_team_ids",
         "latest_decisions", "_open_questions", "trend_chart")


@contextlib.contextmanager
def timed_parts(names: Sequence[str]) -> Iterator[dict[str, float]]:
    """Wrap functions the digest module calls so each call's wall time is added up per name."""
    spent: dict[str, float] = defaultdict(float)
    originals = {name: getattr(digest_module, name) for name in names}

    def wrap(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
        return timed

    for name, function in originals.items():
        setattr(digest_module, name, wrap(name, function))
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
    build: BuildStats
    totals: list[float] = field(default_factory=list)  # build_digest, chart PNG included
    charts: list[float] = field(default_factory=list)  # of which rendering the PNG
    cpu: list[float] = field(default_factory=list)  # this process's CPU time (not the database server's)
    parts: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cold: float = 0.0  # the first digest, before any week's figures were kept (chart rendering excluded)

    @property
    def digest(self) -> float:
        """Median seconds to compute the digest and its chart data, without rendering the PNG."""
        return statistics.median(total - chart for total, chart in zip(self.totals, self.charts))

    @property
    def total(self) -> float:
        return statistics.median(self.totals)

    @property
    def chart(self) -> float:
        return statistics.median(self.charts)

    def part(self, name: str) -> float:
        return statistics.median(self.parts[name]) if self.parts.get(name) else 0.0


def measure_once(db: Database, behaviour: Behaviour, library: Library, week: IsoWeek, timing: Timing,
                 breakdown: bool) -> None:
    """One digest exactly as the digest job builds it (keeping weeks that have settled, as the job does)."""
    with timed_parts(PARTS if breakdown else ("trend_chart",)) as spent:
        cpu = time.process_time()
        started = time.perf_counter()
        result, png = build_digest(db, behaviour, library, week)
        timing.totals.append(time.perf_counter() - started)
        timing.cpu.append(time.process_time() - cpu)
    timing.charts.append(spent.get("trend_chart", 0.0))
    for name, seconds in spent.items():
        timing.parts[name].append(seconds)
    assert result.week == str(week) and png is not None and not result.suppressed


def profile(db: Database, behaviour: Behaviour, library: Library, week: IsoWeek) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    build_digest(db, behaviour, library, week)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    return out.getvalue()


# ---------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.digest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20_000, help="people in the organisation (default 20,000)")
    parser.add_argument("--weeks", type=int, default=52, help="the long history in weeks (default 52)")
    parser.add_argument("--short-weeks", type=int, default=4, help="the short history in weeks (default 4)")
    parser.add_argument("--also-weeks", type=int, action="append", default=[], metavar="N",
                        help="another history to time, for information (e.g. 12: the chart's whole window)")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=5, help="timed digests per database and history (median shown)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--breakdown", action="store_true", help="also show the median time of each part of the digest")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one digest on the long history")
    args = parser.parse_args(argv)
    if not 1 <= args.short_weeks < args.weeks or any(not 1 <= n <= args.weeks for n in args.also_weeks):
        parser.error("histories run from 1 week to --weeks, and --short-weeks must be below --weeks")
    if args.people < 100 or args.repeat < 1:
        parser.error("--people must be at least 100 and --repeat at least 1")

    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    histories = sorted({args.short_weeks, args.weeks, *args.also_weeks})
    behaviour = load_behaviour(None)
    reported = IsoWeek.of(now().date()).shifted(-1)
    library, published = bench_library(reported, args.weeks)
    org = organisation(args.people, args.seed, reported)
    print(f"Digest of {reported} for {len(org.people):,} people in {len(org.teams)} teams, "
          f"{len(library)} explainers; histories of {', '.join(map(str, histories))} weeks; "
          f"{args.repeat} timed digests each.", flush=True)

    timings: list[Timing] = []
    folder = Path(tempfile.mkdtemp(prefix="pulse-bench-digest-"))
    try:
        for kind in kinds:
            timings += run_database(kind, histories, folder, org, behaviour, library, published, reported, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report(timings, args.short_weeks, args.weeks, args.breakdown)


def run_database(kind: str, histories: Sequence[int], folder: Path, org: Organisation, behaviour: Behaviour,
                 library: Library, published: dict[str, int], reported: IsoWeek,
                 args: argparse.Namespace) -> list[Timing]:
    """Build one database per history, then time their digests in turn (so load on the machine
    falls on every history alike), then remove them."""
    with contextlib.ExitStack() as stack:
        databases: list[tuple[Timing, Database]] = []
        for weeks in histories:
            url = stack.enter_context(database(kind, f"{weeks}w", folder))
            history = [reported.shifted(-back) for back in range(weeks - 1, -1, -1)]
            stats = build(url, org, behaviour, library, published, history, args.seed)
            print(f"  {kind:<10} {weeks:>3} weeks built in {stats.seconds:6.1f} s: {_rows(stats)}", flush=True)
            db = Database(url)
            stack.callback(db.dispose)
            databases.append((Timing(kind, weeks, stats), db))
        for timing, db in databases:
            first = Timing(kind, timing.weeks, timing.build)
            measure_once(db, behaviour, library, reported, first, breakdown=False)
            timing.cold = first.digest
            started = time.perf_counter()
            settled = [str(reported.shifted(-back)) for back in range(timing.weeks - 1, -1, -1)]
            kept = settle_weeks(db, [w for w in settled if settles_at(w) <= now()])
            print(f"  {kind:<10} {timing.weeks:>3} weeks: cold digest {timing.cold:.3f} s; kept the other "
                  f"{len(kept)} settled weeks in {time.perf_counter() - started:.1f} s", flush=True)
        for _ in range(args.repeat):
            for timing, db in databases:
                measure_once(db, behaviour, library, reported, timing, args.breakdown)
        for timing, db in databases:
            print(f"  {kind:<10} {timing.weeks:>3} weeks digest: median {timing.digest:.3f} s + chart "
                  f"{timing.chart:.3f} s (runs {', '.join(f'{t:.3f}' for t in timing.totals)})", flush=True)
            if args.profile and timing.weeks == args.weeks:
                print(profile(db, behaviour, library, reported))
        return [timing for timing, _ in databases]


def _rows(stats: BuildStats) -> str:
    shown = ("deliveries", "responses", "answers", "hidden_work_reports", "explainer_deliveries", "explainer_feedback")
    return ", ".join(f"{stats.rows[name]:,} {name}" for name in shown)


def report(timings: list[Timing], short: int, long: int, breakdown: bool) -> int:
    """The table, then PASS/FAIL per budget; 1 when a budget is missed."""
    print()
    print("digest s: build_digest with its chart data, median of the steady state; cold s: the first digest,")
    print("before any week was kept; chart s: rendering the PNG; cpu s: this process")
    print(f"{'database':<11} {'history':>7} {'build s':>8} {'cold s':>7} {'digest s':>9} {'min s':>7} {'max s':>7} "
          f"{'chart s':>8} {'total s':>8} {'cpu s':>6}")
    for t in timings:
        net = [a - b for a, b in zip(t.totals, t.charts)]
        print(f"{t.database:<11} {t.weeks:>5} w {t.build.seconds:>8.1f} {t.cold:>7.3f} {t.digest:>9.3f} {min(net):>7.3f} "
              f"{max(net):>7.3f} {t.chart:>8.3f} {t.total:>8.3f} {statistics.median(t.cpu):>6.3f}")
    if breakdown:
        print()
        print(f"{'median s per part':<18}" + "".join(f" {t.database[:6]:>6} {t.weeks:>2}w" for t in timings))
        for name in PARTS:
            print(f"{name.strip('_'):<18}" + "".join(f" {t.part(name):>10.3f}" for t in timings))
    print()
    failed = False
    by_key = {(t.database, t.weeks): t for t in timings}
    for kind in dict.fromkeys(t.database for t in timings):
        if kind == "postgresql":
            for t in (by_key[(kind, short)], by_key[(kind, long)]):
                ok = t.digest <= BUDGET_SECONDS
                failed |= not ok
                print(f"{'PASS' if ok else 'FAIL'}  postgresql, {t.weeks} weeks: digest {t.digest:.3f} s "
                      f"(budget {BUDGET_SECONDS:.1f} s; {t.total:.3f} s with the chart rendered)")
        large = by_key[(kind, long)]
        ratio = large.digest / by_key[(kind, short)].digest
        ok = ratio <= BUDGET_RATIO
        failed |= not ok
        print(f"{'PASS' if ok else 'FAIL'}  {kind}, {long} weeks / {short} weeks: {ratio:.2f}x (budget {BUDGET_RATIO:.1f}x)")
        for t in timings:
            if t.database == kind and t.weeks not in (short, long):
                print(f"info  {kind}, {long} weeks / {t.weeks} weeks: {large.digest / t.digest:.2f}x")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
