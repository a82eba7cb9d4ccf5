"""Two `pulse serve` processes behind one app: updates to one pulse message stay in order.

Scaled out, the clicks on one message can reach different processes, whose updates to Slack
race. The test makes the race happen: the first click's update is held up at Slack until the
second click, served by the other process, has updated the message. The message must still
show both answers in the end.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

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
from tests.test_running import _free_port, _wait_for_health


def _serve(database_url: str, slack: FakeSlack, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env={**os.environ, "DATABASE_URL": database_url, "SLACK_API_URL": slack.url, "SLACK_BOT_TOKEN": BOT_TOKEN,
             "SLACK_SIGNING_SECRET": SIGNING_SECRET, "PULSE_PSEUDONYM_KEY": PSEUDONYM_KEY},
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    _wait_for_health(f"{base}/healthz", server)
    return server, base


def test_a_late_update_from_another_process_never_hides_a_recorded_answer(
    settings: Settings, database_url: str, db: Database, slack: FakeSlack, tmp_path: Path
) -> None:
    factories.person(db, "UANNA", tz="UTC")
    schedule = settings.behaviour.schedule
    week = IsoWeek.of(now().date())
    sent_at = local_instant("UTC", week.day(schedule.pulse_day), schedule.pulse_time) + dt.timedelta(minutes=5)
    run = run_pulse_job(db, make_services(settings, db).messenger, settings.behaviour, at=sent_at, force=True, week=week)
    assert run.sent == 1
    servers = [_serve(database_url, slack, tmp_path)]
    servers.append(_serve(database_url, slack, tmp_path))
    try:
        message = dm(slack, "UANNA")
        first, second = buttons(message)["pulse_answer:capability:0"], buttons(message)["pulse_answer:workload:4"]
        # The first process's update reaches Slack only after a second and a half.
        slack.slow("chat.update", 1.5, processed=False)
        one = SignedSlack(servers[0][1], SIGNING_SECRET, response_url_factory=slack.response_url)
        other = SignedSlack(servers[1][1], SIGNING_SECRET, response_url_factory=slack.response_url)
        assert one.block_action("UANNA", first["action_id"], first["value"], channel_id="DANNA",
                                message_ts=message["ts"]).status == 200
        slack.wait_for("chat.update", 1)
        assert other.block_action("UANNA", second["action_id"], second["value"], channel_id="DANNA",
                                  message_ts=message["ts"]).status == 200
        slack.wait_for("chat.update", 3, timeout=15)  # the late one, then the first process's again
        slack.settle(timeout=15)
    finally:
        stderr = b""
        for server, _ in servers:
            server.terminate()
            stderr += server.communicate(timeout=30)[1]
    assert sorted(stored.answers(db, PSEUDONYM_KEY.encode())) == [("capability", 1.0), ("workload", 5.0)]
    shown = buttons(dm(slack, "UANNA"))
    assert shown["pulse_answer:capability:0"].get("style") == "primary"
    assert shown["pulse_answer:workload:4"].get("style") == "primary"
    assert b"Traceback" not in stderr
