"""Running it: `pulse jobs run`, `pulse serve` under gunicorn, and the clock's job wiring."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from freezegun import freeze_time

from bot.cli import main
from bot.clock import JOBS, JobContext, schedule_jobs
from bot.db import Database
from bot.settings import Settings
from bot.slack.app import make_services
from bot.surveys.service import run_pulse_job
from bot.weeks import IsoWeek, local_instant, now
from tests import factories, stored
from tests.conftest import BOT_TOKEN, PSEUDONYM_KEY, SIGNING_SECRET
from tests.slack_requests import SignedSlack
from tests.slack_server import FakeSlack
from tests.test_pulse_http import buttons, dm


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, database_url: str, slack: FakeSlack) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("PULSE_PSEUDONYM_KEY", PSEUDONYM_KEY)


def test_jobs_run_pulse_sends_what_the_scheduler_would_and_only_once(
    environment: None, db: Database, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    factories.person(db, "UBERLIN", tz="Europe/Berlin")
    factories.person(db, "ULA", tz="America/Los_Angeles")
    with freeze_time("2026-11-24 09:30"):
        code, out, _ = run_cli(["jobs", "run", "pulse"], capsys)
        assert code == 0 and "sent 1" in out
        code, out, _ = run_cli(["jobs", "run", "pulse"], capsys)
        assert code == 0 and "sent 0" in out
        code, out, _ = run_cli(["jobs", "run", "pulse", "--force"], capsys)
    assert code == 0 and "sent 1" in out  # Los Angeles, 01:30 on Tuesday: forced past the time of day
    assert sorted(call.params["channel"] for call in slack.calls_to("chat.postMessage")) == ["UBERLIN", "ULA"]


def test_jobs_run_reminders_reports_what_it_did(
    environment: None, db: Database, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    factories.person(db, "UBERLIN", tz="Europe/Berlin")
    with freeze_time("2026-11-24 09:30"):
        run_cli(["jobs", "run", "pulse"], capsys)
    with freeze_time("2026-11-26 10:00"):
        code, out, _ = run_cli(["jobs", "run", "reminders"], capsys)
    assert code == 0 and "reminders: sent 1" in out


def test_the_clock_schedules_every_job_once_with_catch_up(settings: Settings, db: Database) -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    schedule_jobs(scheduler, JobContext(settings, db, make_services(settings, db).messenger))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == set(JOBS)
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
        assert job.next_run_time is not None  # runs at start: downtime is caught up at once


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_pulse_serve_answers_healthz_under_gunicorn(tmp_path: Path, slack: FakeSlack) -> None:
    database = tmp_path / "serve.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "PULSE_PSEUDONYM_KEY": PSEUDONYM_KEY,
    }
    subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=env, check=True, capture_output=True, cwd=tmp_path)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        body = _wait_for_health(f"http://127.0.0.1:{port}/healthz", server)
        assert body == b"ok"
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert b"Traceback" not in stderr


def test_a_deploy_records_every_click_it_acknowledged_before_stopping(
    settings: Settings, database_url: str, db: Database, slack: FakeSlack, tmp_path: Path
) -> None:
    people = [f"UDEPLOY{n}" for n in range(8)]
    for user_id in people:
        factories.person(db, user_id, tz="UTC")
    # This week's pulse, sent at this week's pulse time on the real clock: the server runs on it.
    schedule = settings.behaviour.schedule
    week = IsoWeek.of(now().date())
    sent_at = local_instant("UTC", week.day(schedule.pulse_day), schedule.pulse_time) + dt.timedelta(minutes=5)
    run = run_pulse_job(db, make_services(settings, db).messenger, settings.behaviour, at=sent_at, force=True, week=week)
    assert run.sent == len(people)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env={**os.environ, "DATABASE_URL": database_url, "SLACK_API_URL": slack.url, "SLACK_BOT_TOKEN": BOT_TOKEN,
             "SLACK_SIGNING_SECRET": SIGNING_SECRET, "PULSE_PSEUDONYM_KEY": PSEUDONYM_KEY},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_health(f"http://127.0.0.1:{port}/healthz", server)
        # Each message update takes Slack a second, so most clicks are still waiting to be
        # recorded when the deploy stops the server, right after the last one is acknowledged.
        slack.slow("chat.update", 1.0, times=len(people), processed=True)
        requests = SignedSlack(f"http://127.0.0.1:{port}", SIGNING_SECRET, response_url_factory=slack.response_url)
        for user_id in people:
            message = dm(slack, user_id)
            button = buttons(message)["pulse_answer:capability:0"]
            response = requests.block_action(user_id, button["action_id"], button["value"],
                                             channel_id="D" + user_id[1:], message_ts=message["ts"])
            assert response.status == 200
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, stderr.decode(errors="replace")[-2000:]
    assert stored.answer_count(db, PSEUDONYM_KEY.encode()) == len(people)
    assert len(slack.calls_to("chat.update")) == len(people)  # every message shows its answer
    assert b"Traceback" not in stderr


def _wait_for_health(url: str, server: subprocess.Popen[bytes]) -> bytes:
    """Poll until gunicorn has booted (a real process start, not a clock we control)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"pulse serve exited: {server.stderr.read().decode() if server.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            time.sleep(0.2)
    raise AssertionError("pulse serve did not answer /healthz within 30 s")


def test_pulse_serve_without_a_signing_secret_stops_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PULSE_", "DATABASE_URL"))}
    env["SLACK_BOT_TOKEN"] = BOT_TOKEN
    result = subprocess.run([sys.executable, "-m", "bot", "serve"], env=env, capture_output=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "SLACK_SIGNING_SECRET" in lines[0]


class _Terminal:
    """stderr as a terminal shows it: what was written, and that it is a terminal."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_a_fan_out_run_by_hand_shows_its_progress_on_a_terminal_and_nothing_when_piped(
    environment: None, db: Database, slack: FakeSlack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(60):
        factories.person(db, f"UMANY{n:02d}", tz="Europe/Berlin")
    with freeze_time("2026-11-24 09:30"):
        code, out, err = run_cli(["jobs", "run", "pulse"], capsys)
    assert code == 0 and "sent 60" in out and err == ""  # not a terminal: quiet
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    for n in range(60, 120):
        factories.person(db, f"UMANY{n:03d}", tz="Europe/Berlin")
    with freeze_time("2026-11-24 09:40"):
        code, out, _ = run_cli(["jobs", "run", "pulse"], capsys)
    assert code == 0 and "sent 60" in out
    shown = "".join(terminal.written)
    assert shown.startswith("\rpulse DMs sent: ") and shown.endswith("pulse DMs sent: 60\x1b[K\n")
