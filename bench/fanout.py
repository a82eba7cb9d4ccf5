"""Benchmarks 2 and 4, fan-out: the weekly pulse to 10,000 people, and the memory it takes.

`pulse jobs run pulse --force` (the very function the clock runs) sends the pulse DM to every
person of a migrated database, against the local Slack-compatible server in a process of its
own. The rate is measured where Slack would see it: from the first DM to arrive to the last.

1. Without a rate limit, the rate is our own overhead per DM (budget: at least 800 DMs/s), and
   so is the job process's own CPU time per DM, start-up included (budget: at most 0.5 ms).
2. With a rate limit (a fixed window, as Slack's per-minute tiers: `--limit` calls per
   `--window` seconds, 429 with Retry-After beyond), the rate as a share of the allowed one
   (budget: at least 90%).
4. The job process's peak resident memory during the unlimited run (budget: under 200 MB).

    python -m bench.fanout [--people 10000] [--database-url URL] [--limit 3000 --window 30]
    python -m bench.fanout --unlimited-only --profile stacks.txt   # where the job's time goes (py-spy)

Each run also checks the outcome: every person got exactly one DM. Exits 0 whether or not a
budget is met (the verdicts are printed); 1 when something broke.
"""

from __future__ import annotations

import argparse
import compileall
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from sqlalchemy import insert

import bot
from bench.common import fresh_database
from bot.db import Database
from bot.models import Person, Team

TOKEN = "xoxb-bench-token"
RATE_BUDGET = 800  # DMs/s without a rate limit
CPU_BUDGET_MS = 0.5  # the job's own CPU per DM
TEAMS = 100
EVERY_DAY = """\
schedule:
  workdays: [monday, tuesday, wednesday, thursday, friday, saturday, sunday]
  latest_time: "23:59"
"""


@dataclass
class Outcome:
    dms: int
    people_with_one: int
    seconds: float  # first DM to last, as the server saw them
    wall: float  # the whole job process, start-up included
    peak_mb: float
    cpu: float  # the job process's CPU seconds, user and system
    system: float  # of which in the kernel (sockets, the database's file)
    rate_limited: int


def add_people(url: str, count: int) -> None:
    database = Database(url)
    with database.session() as session:
        session.execute(insert(Team), [{"path": f"Team {t:03d}", "name": f"Team {t:03d}"} for t in range(TEAMS)])
        team_ids = list(session.scalars(Team.__table__.select().with_only_columns(Team.id)))
        people = [
            {
                "slack_user_id": f"U{index:07d}",
                "team_id": team_ids[index % TEAMS],
                "level": "experienced",
                "tz": "UTC",
                "is_council": False,
                "active": True,
                "away": False,
            }
            for index in range(count)
        ]
        for start in range(0, count, 5000):
            session.execute(insert(Person), people[start : start + 5000])
    database.dispose()


def fan_out(url: str, config: Path, *, limit: int | None, window: float, profile: Path | None = None) -> Outcome:
    server = SlackServer(limit, window)
    try:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_API_URL": server.url,
            "PULSE_PSEUDONYM_KEY": "bench-pseudonym-key",
            "PULSE_CONFIG": str(config),
        }
        started = time.perf_counter()
        command = [sys.executable, "-m", "bot", "jobs", "run", "pulse", "--force"]
        if profile is not None:
            # py-spy samples every thread of the job (the sends run in a pool), idle ones left out.
            spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            command = [spy, "record", "--format", "raw", "--gil", "--nonblocking", "-r", "1000", "-o", str(profile), "--", *command]
        job = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # wait4 gives this one child's resource use, its peak resident memory included.
        _, status, usage = os.wait4(job.pid, 0)
        wall = time.perf_counter() - started
        job.returncode = os.waitstatus_to_exitcode(status)
        out, err = job.communicate()
        if job.returncode != 0:
            raise SystemExit(f"the pulse job failed: {err.strip().splitlines()[-1:]}")
        print(f"    {out.strip()}")
        report = server.report()
    finally:
        server.stop()
    return Outcome(
        dms=report["dms"],
        people_with_one=report["people_with_one"],
        seconds=report["last"] - report["first"],
        wall=wall,
        peak_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
        cpu=usage.ru_utime + usage.ru_stime,
        system=usage.ru_stime,
        rate_limited=report["rate_limited"],
    )


class SlackServer:
    """The local Slack-compatible server (tests/slack_server.py) in a process of its own."""

    def __init__(self, limit: int | None, window: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, limit, window), daemon=True)
        self._process.start()
        self.url: str = self._pipe.recv()

    def report(self) -> dict[str, float]:
        self._pipe.send("report")
        answer: dict[str, float] = self._pipe.recv()
        return answer

    def stop(self) -> None:
        if self._process.is_alive():
            self._pipe.send("stop")
            self._process.join(10)


def _serve(pipe: Connection, limit: int | None, window: float) -> None:
    from tests.slack_server import FakeSlack

    with FakeSlack(bot_token=TOKEN) as slack:
        if limit is not None:
            slack.rate_limit("chat.postMessage", limit, window)
        pipe.send(slack.url)
        while pipe.recv() != "stop":
            with slack._changed:
                # A message's ts is the server's clock when it was posted.
                posted = sorted(float(m["ts"]) for messages in slack.messages.values() for m in messages)
                calls = sum(1 for call in slack.calls if call.method == "chat.postMessage")
                pipe.send(
                    {
                        "dms": len(posted),
                        "people_with_one": sum(1 for messages in slack.messages.values() if len(messages) == 1),
                        "first": posted[0] if posted else 0.0,
                        "last": posted[-1] if posted else 0.0,
                        "rate_limited": calls - len(posted),
                    }
                )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (a schema is made and dropped); default SQLite")
    parser.add_argument("--limit", type=int, default=3000, help="DMs allowed per window in the rate-limited run")
    parser.add_argument("--window", type=float, default=30.0, help="the rate limit's window, in seconds")
    parser.add_argument("--unlimited-only", action="store_true", help="skip the rate-limited run")
    parser.add_argument(
        "--profile", type=Path, default=None,
        help="sample the unlimited run's job with py-spy (pip install py-spy) into this file of collapsed stacks",
    )
    args = parser.parse_args()

    # The job starts as an installed app does, its modules compiled already (pip compiles what it
    # installs; an editable install run with PYTHONDONTWRITEBYTECODE would compile them each run).
    compileall.compile_dir(Path(bot.__file__).parent, quiet=1)
    print(f"Fan-out of {args.people:,} pulse DMs on {platform.node()} ({os.cpu_count()} cores), Python {platform.python_version()}")
    results: dict[str, Outcome] = {}
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "behaviour.yml"
        config.write_text(EVERY_DAY)  # so --force sends on any day the benchmark is run
        runs = [("unlimited", None)] + ([] if args.unlimited_only else [("rate-limited", args.limit)])
        for name, limit in runs:
            place = Path(folder) / name
            place.mkdir()
            with fresh_database(args.database_url, place) as url:
                add_people(url, args.people)
                backend = url.split(":", 1)[0].split("+")[0]
                print(f"  {name} ({backend}) …")
                profile = args.profile if limit is None else None
                results[name] = fan_out(url, config, limit=limit, window=args.window, profile=profile)

    free = results["unlimited"]
    rate = free.dms / free.seconds if free.seconds else float("inf")
    print()
    print(
        f"  {'run':<14}{'DMs':>8}{'once each':>11}{'seconds':>10}{'DMs/s':>9}{'429s':>7}"
        f"{'job wall s':>12}{'CPU ms/DM':>11}{'of it sys':>11}{'peak MB':>9}"
    )
    for name, outcome in results.items():
        per_second = outcome.dms / outcome.seconds if outcome.seconds else float("inf")
        print(
            f"  {name:<14}{outcome.dms:>8,}{outcome.people_with_one:>11,}{outcome.seconds:>10.1f}"
            f"{per_second:>9.0f}{outcome.rate_limited:>7,}{outcome.wall:>12.1f}"
            f"{1000 * outcome.cpu / max(outcome.dms, 1):>11.2f}{1000 * outcome.system / max(outcome.dms, 1):>11.2f}"
            f"{outcome.peak_mb:>9.0f}"
        )
    print()
    cpu_per_dm = 1000 * free.cpu / max(free.dms, 1)
    print(f"  {verdict(rate >= RATE_BUDGET)}  our own rate without a limit: {rate:.0f} DMs/s (budget ≥ {RATE_BUDGET})")
    print(
        f"  {verdict(cpu_per_dm <= CPU_BUDGET_MS)}  the job's own CPU per DM: {cpu_per_dm:.2f} ms, start-up included "
        f"(budget ≤ {CPU_BUDGET_MS} ms)"
    )
    if "rate-limited" in results:
        limited = results["rate-limited"]
        allowed = args.limit / args.window
        share = (limited.dms / limited.seconds if limited.seconds else float("inf")) / allowed
        print(
            f"  {verdict(share >= 0.9)}  share of the allowed rate ({allowed:.0f}/s as {args.limit} per {args.window:g} s): "
            f"{share:.0%} (budget ≥ 90%)"
        )
    print(f"  {verdict(free.peak_mb < 200)}  peak memory of the job process: {free.peak_mb:.0f} MB (budget < 200 MB)")
    everyone = all(o.dms == o.people_with_one == args.people for o in results.values())
    print(f"  {verdict(everyone)}  every person got exactly one DM in {'both runs' if len(results) > 1 else 'the run'}")
    if not everyone:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
