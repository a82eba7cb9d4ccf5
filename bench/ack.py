"""Benchmark 1, acknowledgement: how fast pulse answer clicks are acknowledged under load.

Signed block_actions for pulse answer buttons go, 32 at a time, to the real app under gunicorn
and to a bare Bolt app that only acks (bench/bare_app.py), served the same way on the same
machine in the same run. Latency is the time to the HTTP response, which is the ack Slack
waits for (3 s at most). The real app does its work for real: a migrated database with a
roster and this week's pulse sent by the pulse job, every click recording an answer and
updating the person's message through the local Slack-compatible server (tests/slack_server.py,
in a process of its own). Each round measures both apps, taking turns to go first; the
verdicts are on the medians of the rounds.

    python -m bench.ack [--clicks 2000] [--concurrency 32] [--rounds 3] [--database-url URL]

Gunicorn runs as the Procfile has it: 2 workers (one per core: a Python process runs Python
code on one core at a time) with 8 threads each (so a worker waiting on the database or on
Slack keeps serving).

Budgets: p99 under 100 ms, and throughput at least 80% of the bare app's. Exits 0 whether or
not a budget is met (the verdicts are printed); 1 when something broke.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select

from bench.common import SlackProcess, fresh_database
from bot.db import Database
from bot.models import Delivery, Person, PulseRound, Response, Team
from bot.settings import Question, load_settings
from bot.slack.app import make_services
from bot.slack.blocks.pulse import answer_value
from bot.slack.ids import Action
from bot.surveys.service import blank_view, opened, run_pulse_job
from bot.weeks import IsoWeek, local_instant, now
from tests.slack_requests import Response as SlackResponse
from tests.slack_requests import SignedSlack

ROOT = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-bench-token"
PSEUDONYM_KEY = "bench-pseudonym-key-0123456789"
TEAMS = ("Sales", "Sales/EMEA", "Sales/Americas", "Finance", "Finance/Controlling", "Operations",
         "Operations/Logistics", "Support", "Support/Tier 1", "Support/Tier 2")

P99_BUDGET_MS = 100.0
THROUGHPUT_BUDGET = 0.80


@dataclass(frozen=True)
class Message:
    """One person's pulse DM, as the pulse job sent it."""

    user_id: str
    channel: str
    ts: str


@dataclass(frozen=True)
class Click:
    message: Message
    round_id: int
    question: Question
    option: int

    @property
    def action_id(self) -> str:
        return f"{Action.PULSE_ANSWER}:{self.question.key}:{self.option}"


@dataclass
class Run:
    label: str
    latencies: list[float]
    statuses: list[int]
    seconds: float
    others: float | None = None  # share of the machine that other programs used meanwhile
    server_cpu: float | None = None  # processor seconds the server used per click, work included

    @property
    def errors(self) -> int:
        return sum(status != 200 for status in self.statuses)

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds

    def figures(self) -> Figures:
        others = math.nan if self.others is None else self.others
        cpu = math.nan if self.server_cpu is None else self.server_cpu * 1000
        return Figures(self.percentile(50), self.percentile(99), self.throughput, others, cpu)


@dataclass(frozen=True)
class Figures:
    p50: float  # ms
    p99: float  # ms
    throughput: float  # clicks acknowledged per second
    others: float  # share of the machine other programs used meanwhile (nan: unknown)
    cpu_ms: float  # server processor time per click (nan: unknown)

    @classmethod
    def median(cls, rounds: list[Figures]) -> Figures:
        names = ("p50", "p99", "throughput", "others", "cpu_ms")
        return cls(*(statistics.median(getattr(f, name) for f in rounds) for name in names))


# ---------------------------------------------------------------- the organisation


def seed(db: Database, url: str, people: int, slack_url: str) -> tuple[list[Message], int, list[Question]]:
    """A roster of `people`, this week's round, and its pulse sent to everyone by the pulse job."""
    with db.session() as session:
        team_ids = []
        for path in TEAMS:
            parent = session.scalar(select(Team.id).where(Team.path == path.rpartition("/")[0]))
            team = Team(path=path, name=path.rpartition("/")[2], parent_id=parent)
            session.add(team)
            session.flush()
            team_ids.append(team.id)
        session.execute(insert(Person), [
            {"slack_user_id": f"U{n:07d}", "team_id": team_ids[n % len(team_ids)], "tz": "UTC",
             "level": ("entry", "experienced", "lead")[n % 3], "active": True, "away": False, "is_council": False}
            for n in range(people)
        ])
    settings = load_settings(_env_file=None, **app_settings(url, slack_url))
    behaviour = settings.behaviour
    week = IsoWeek.of(now().date())
    # This week's pulse day and time, so the round is this week's and open however the run falls.
    sent_at = local_instant("UTC", week.day(behaviour.schedule.pulse_day), behaviour.schedule.pulse_time)
    run = run_pulse_job(db, make_services(settings, db).messenger, behaviour, at=sent_at + dt.timedelta(minutes=5),
                        force=True, week=week)
    if run.sent != people:
        raise SystemExit(f"the pulse job sent {run.sent} of {people} pulses: {run.summary()}")
    with db.session() as session:
        rows = session.execute(
            select(Person.slack_user_id, Delivery.channel_id, Delivery.message_ts, Delivery.round_id)
            .join(Person, Person.id == Delivery.person_id)
            .where(Delivery.status == "sent")
            .order_by(Person.id)
        ).all()
        pulse_round = session.get_one(PulseRound, rows[0].round_id)
        questions = blank_view(pulse_round).closed_questions
    return [Message(r.slack_user_id, r.channel_id, r.message_ts) for r in rows], pulse_round.id, questions


def app_settings(database_url: str, slack_url: str) -> dict[str, str]:
    return {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack_url,
        "database_url": database_url,
        "pulse_pseudonym_key": PSEUDONYM_KEY,
        "pulse_council_channel": "CCOUNCIL",
    }


def clicks(messages: list[Message], round_id: int, questions: list[Question], start: int, count: int) -> list[Click]:
    """Clicks `start` … `start + count` of one sequence: everyone answers one question, then the next."""
    chosen = []
    for n in range(start, start + count):
        question = questions[(n // len(messages)) % len(questions)]
        chosen.append(Click(messages[n % len(messages)], round_id, question, n % len(question.options)))
    return chosen


class _Signer(SignedSlack):
    """Slack's payloads and signatures from the tests' helper, kept instead of sent."""

    def __init__(self, response_url: str) -> None:
        super().__init__("http://unused", SIGNING_SECRET, response_url_factory=lambda: response_url)
        self.signed: list[tuple[bytes, dict[str, str]]] = []

    def post_raw(self, body: bytes, headers: dict[str, str]) -> SlackResponse:
        self.signed.append((body, headers))
        return SlackResponse(200, b"")


def signed_requests(batch: list[Click], response_url: str) -> list[tuple[bytes, dict[str, str]]]:
    """Built and signed before the clock starts, so the load generator only sends."""
    signer = _Signer(response_url)
    for click in batch:
        value = answer_value(click.round_id, click.question.key, click.option)
        signer.block_action(click.message.user_id, click.action_id, value, block_id=f"q_{click.question.key}",
                            channel_id=click.message.channel, message_ts=click.message.ts)
    return signer.signed


# ---------------------------------------------------------------- servers and load


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    port: int
    pid: int  # gunicorn's master; its workers are its children


@contextmanager
def gunicorn(name: str, app: str, env: dict[str, str], workers: int, threads: int, folder: Path) -> Iterator[Server]:
    port = free_port()
    log = folder / f"{name}.log"
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--threads", str(threads), "--worker-class", "gthread", "--log-level", "warning", app]
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=env, cwd=folder, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(port, server, log)
        yield Server(port, server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
        errors = [line for line in log.read_text(errors="replace").splitlines() if "Traceback" in line or "ERROR" in line]
        if errors:
            print(f"  {name}: {len(errors)} error line(s) in {log}", file=sys.stderr)


def wait_until_listening(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn did not answer on port {port} within 60 s")


def hammer(label: str, server: Server, requests: list[tuple[bytes, dict[str, str]]], concurrency: int,
           *, keep_alive: bool = False) -> Run:
    """Send every request, `concurrency` at a time; latency is the time to the whole response.

    Without keep-alive each request has a connection of its own, as each of Slack's may: a kept
    connection stays with the gunicorn worker that accepted it, and how 32 of them happen to
    split between two workers (16/16 or 6/26) would swing the figures more than the app does.
    """
    total = len(requests)
    latencies = [0.0] * total
    statuses = [0] * total
    finished = [0.0] * total
    numbers = itertools.count()  # next() on it is atomic under the interpreter lock
    ready = threading.Barrier(concurrency + 1)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        ready.wait()
        while (n := next(numbers)) < total:
            body, headers = requests[n]
            started = time.perf_counter()
            try:
                connection.request("POST", "/slack/events", body, headers if keep_alive else {**headers, "Connection": "close"})
                response = connection.getresponse()
                response.read()
                statuses[n] = response.status
            except (OSError, http.client.HTTPException):
                statuses[n] = 0
            if not keep_alive or not statuses[n]:
                connection.close()  # the next request connects afresh
            finished[n] = time.perf_counter()
            latencies[n] = finished[n] - started
        connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    ready.wait()
    before = cpu_snapshot()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    after = cpu_snapshot()
    seconds = max(finished) - began
    run = Run(label, latencies, statuses, seconds)
    if before is not None and after is not None:
        machine = after.machine - before.machine
        ours = after.used_by(os.getpid()) - before.used_by(os.getpid())
        run.others = max(machine - ours, 0.0) / (seconds * (os.cpu_count() or 1))
        run.server_cpu = (after.used_by(server.pid) - before.used_by(server.pid)) / total
    return run


@dataclass
class CpuSnapshot:
    """Processor seconds used so far by the whole machine, and by each process."""

    machine: float
    parents: dict[int, int]
    used: dict[int, float]

    def used_by(self, root: int) -> float:
        """By `root` and all its descendants."""
        tree = {root}
        while grown := {pid for pid, parent in self.parents.items() if parent in tree and pid not in tree}:
            tree |= grown
        return sum(self.used.get(pid, 0.0) for pid in tree)


def cpu_snapshot() -> CpuSnapshot | None:
    """None where /proc is not available.

    The machine's use minus this benchmark's (its own process and its children: the servers, the
    Slack stand-in) is what other programs took meanwhile; on a small shared machine that, more
    than anything, is what makes figures wander.
    """
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
        parents: dict[int, int] = {}
        used: dict[int, float] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            pid = int(entry.name)
            parents[pid], used[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, ValueError, IndexError):
        return None
    return CpuSnapshot((user + nice + system + irq + softirq + steal) / ticks, parents, used)


# ---------------------------------------------------------------- the real app's work


class Recorded:
    """Responses stored, and the answers in them (answers are no longer rows of their own: each
    response's sealed value is opened, as the release and `/pulse mydata` open it).

    Only a response whose sealed value changed since the last look is opened again, so polling
    while the app catches up costs this process little next to the app's own work.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.key = PSEUDONYM_KEY.encode("utf-8")
        self.seen: dict[tuple[int, str], tuple[bytes, int]] = {}  # (round, pseudonym) → (sealed, answers)

    def __call__(self) -> tuple[int, int]:
        with self.db.session() as session:
            rows = session.execute(
                select(Response.round_id, PulseRound.week, Response.pseudonym, Response.sealed)
                .join(PulseRound, PulseRound.id == Response.round_id)
            ).all()
        answers = 0
        for round_id, week, who, sealed in rows:
            known = self.seen.get((round_id, who))
            if known is None or known[0] != sealed:
                known = (bytes(sealed), len(opened(self.key, week, who, sealed).answers))
                self.seen[(round_id, who)] = known
            answers += known[1]
        return len(rows), answers


class Bench:
    """The clicks of each round, and measuring both apps with them."""

    def __init__(self, db: Database, slack: SlackProcess, messages: list[Message], round_id: int,
                 questions: list[Question], args: argparse.Namespace) -> None:
        self.db, self.slack = db, slack
        self.recorded = Recorded(db)
        self.messages, self.round_id, self.questions = messages, round_id, questions
        self.args = args
        self.clicked = 0  # clicks sent so far (each round's go at both apps uses the same ones)
        self.answered = 0  # clicks the real app has been sent so far, warm-ups included
        self.drained: list[float] = []
        self.during: list[int] = []  # answers stored while each round's clicks were being acknowledged

    def next_round(self) -> list[tuple[bytes, dict[str, str]]]:
        batch = clicks(self.messages, self.round_id, self.questions, self.clicked, self.args.warmup + self.args.clicks)
        self.clicked += len(batch)
        return signed_requests(batch, self.slack.response_url())

    def measure_bare(self, server: Server, requests: list[tuple[bytes, dict[str, str]]]) -> Run:
        warmup = self.args.warmup
        hammer("warm-up", server, requests[:warmup], self.args.concurrency, keep_alive=self.args.keep_alive)
        return hammer("bare Bolt app (ack)", server, requests[warmup:], self.args.concurrency, keep_alive=self.args.keep_alive)

    def measure_app(self, server: Server, requests: list[tuple[bytes, dict[str, str]]]) -> Run:
        warmup = self.args.warmup
        hammer("warm-up", server, requests[:warmup], self.args.concurrency, keep_alive=self.args.keep_alive)
        self.answered += warmup
        # The warm-up's work is done before the clock starts, so each run begins from an idle app.
        self.wait_for_work()
        before = self.recorded()[1]
        run = hammer("Rollout Pulse", server, requests[warmup:], self.args.concurrency, keep_alive=self.args.keep_alive)
        self.during.append(self.recorded()[1] - before)
        self.answered += len(requests) - warmup
        self.drained.append(self.wait_for_work())
        return run

    def wait_for_work(self, timeout: float = 300.0) -> float:
        """Seconds until every click's answer is stored and its message updated (the work after the ack)."""
        answers = len({(c.message.user_id, c.question.key)
                       for c in clicks(self.messages, self.round_id, self.questions, 0, self.answered)})
        began = time.perf_counter()
        while time.perf_counter() - began < timeout:
            if self.recorded()[1] >= answers and self.slack.counts().get("chat.update", 0) >= self.answered:
                return time.perf_counter() - began
            time.sleep(0.05)
        raise SystemExit(f"work unfinished after {timeout:.0f} s: {self.recorded()} {self.slack.counts()}")


# ---------------------------------------------------------------- report


def machine() -> str:
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    return f"{os.cpu_count()} cores ({model or 'unknown CPU'}), {platform.system()}, Python {platform.python_version()}"


def row(label: str, bare: Figures, real: Figures, ratio: float) -> str:
    return (f"{label:10}{bare.p50:8.1f}{bare.p99:8.1f}{bare.throughput:8.0f}{bare.cpu_ms:8.2f}"
            f"{real.p50:11.1f}{real.p99:8.1f}{real.throughput:8.0f}{real.cpu_ms:8.2f}{ratio:9.2f}"
            f"{_share(bare.others):>10}{_share(real.others):>6}")


def _share(value: float) -> str:
    return "?" if math.isnan(value) else f"{value:.0%}"


HEADER = (f"{'':10}{'bare Bolt app (ack only)':^32}{'Rollout Pulse':^35}{'':9}{'other load':>16}\n"
          f"{'':10}{'p50 ms':>8}{'p99 ms':>8}{'/s':>8}{'cpu ms':>8}{'p50 ms':>11}{'p99 ms':>8}{'/s':>8}{'cpu ms':>8}"
          f"{'ratio':>9}{'bare':>10}{'app':>6}")


def verdicts(real: Figures, ratio: float) -> list[str]:
    latency = "PASS" if real.p99 < P99_BUDGET_MS else "FAIL"
    throughput = "PASS" if ratio >= THROUGHPUT_BUDGET else "FAIL"
    return [
        f"budget p99 < {P99_BUDGET_MS:.0f} ms: {latency} ({real.p99:.1f} ms)",
        f"budget throughput >= {THROUGHPUT_BUDGET:.0%} of the bare app's: {throughput} ({ratio:.0%})",
    ]


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ack", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=2000, help="measured clicks per app and round")
    parser.add_argument("--concurrency", type=int, default=32, help="client threads sending at once")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured clicks per app before each round")
    parser.add_argument("--people", type=int, default=2000, help="people on the roster, each sent the pulse")
    parser.add_argument("--rounds", type=int, default=3, help="measure both apps this many times, taking turns "
                        "to go first; the verdicts are on the medians of the rounds")
    parser.add_argument("--keep-alive", action="store_true", help="each client thread keeps one connection "
                        "(default: a connection per click)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (one per core)")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--database-url", help="PostgreSQL URL to run on (a fresh schema is made and dropped; "
                        "the server's own work then counts as other load); default: a SQLite file in a temporary folder")
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pulse-bench-")))
        url = stack.enter_context(fresh_database(args.database_url, folder))
        db = Database(url)
        stack.callback(db.dispose)
        slack = stack.enter_context(SlackProcess(BOT_TOKEN))
        started = time.perf_counter()
        messages, round_id, questions = seed(db, url, args.people, slack.url)
        print(f"machine: {machine()}")
        print(f"database: {db.engine.dialect.name}; {len(messages):,} people sent this week's pulse "
              f"({len(questions)} questions) in {time.perf_counter() - started:.1f} s")
        print(f"gunicorn: {args.workers} workers x {args.threads} threads (gthread); "
              f"{args.rounds} round(s) of {args.clicks:,} clicks per app, {args.concurrency} at a time, "
              f"each after {args.warmup:,} warm-up clicks; "
              f"{'kept connections' if args.keep_alive else 'a connection per click'}\n")

        env = {name: value for name, value in os.environ.items() if not name.startswith(("SLACK_", "PULSE_", "DATABASE_"))}
        env.update({name.upper(): value for name, value in app_settings(url, slack.url).items()})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        serve = (args.workers, args.threads, folder)
        bare_server = stack.enter_context(gunicorn("bare", "bench.bare_app:create_app()", env, *serve))
        app_server = stack.enter_context(gunicorn("app", "bot.slack.web:create_app()", env, *serve))

        bench = Bench(db, slack, messages, round_id, questions, args)
        bare_runs: list[Run] = []
        app_runs: list[Run] = []
        print(HEADER)
        for number in range(1, args.rounds + 1):
            # Alternate which app goes first, so a slow spell on the machine does not favour one.
            requests = bench.next_round()
            order = [("bare", bare_server), ("app", app_server)]
            for name, server in order if number % 2 else reversed(order):
                if name == "bare":
                    bare_runs.append(bench.measure_bare(server, requests))
                else:
                    app_runs.append(bench.measure_app(server, requests))
            bare, real = bare_runs[-1].figures(), app_runs[-1].figures()
            print(row(f"round {number}", bare, real, real.throughput / bare.throughput))

        ratio = statistics.median(app.throughput / bare.throughput for app, bare in zip(app_runs, bare_runs))
        bare, real = Figures.median([r.figures() for r in bare_runs]), Figures.median([r.figures() for r in app_runs])
        print(row("median", bare, real, ratio))
        print()
        for line in verdicts(real, ratio):
            print(line)
        responses, answers = bench.recorded()
        counts = slack.counts()
        errors = sum(run.errors for run in (*bare_runs, *app_runs))
        print(f"work done: {answers:,} answers in {responses:,} responses, {counts.get('chat.update', 0):,} message "
              f"updates, {counts.get('response_url', 0)} refusals, {errors} failed requests")
        print(f"answers stored while each round's {args.clicks:,} clicks were acknowledged: "
              f"{', '.join(f'{n:,}' for n in bench.during)}; the rest within "
              f"{', '.join(f'{s:.1f}' for s in bench.drained)} s after the last ack")
        if errors or counts.get("response_url", 0) or counts.get("chat.update", 0) != bench.answered:
            print("something broke: see the failures above", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
