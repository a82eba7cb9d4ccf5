"""`pulse socket`: the app over Socket Mode, with no signing secret, against a local Socket Mode peer.

The real command runs as its own process on the real clock (as `pulse serve` does in
test_running.py): the local Web API server answers apps.connections.open with the ws:// URL of
tests/socket_peer.py, which sends the envelopes Slack would and reads the acknowledgements.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.models import Person
from bot.settings import Settings
from bot.slack.app import make_services
from bot.surveys.service import run_pulse_job
from bot.weeks import IsoWeek, local_instant, now
from tests import factories, stored
from tests.blockkit import assert_valid_message
from tests.conftest import BOT_TOKEN, PSEUDONYM_KEY
from tests.slack_server import FakeSlack
from tests.socket_peer import Envelopes, SocketModePeer
from tests.test_pulse_http import buttons, dm


def socket_environment(database_url: str, slack: FakeSlack, **extra: str) -> dict[str, str]:
    """What an operator sets for `pulse socket`: no SLACK_SIGNING_SECRET among it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PULSE_", "DATABASE_URL"))}
    env.update({
        "DATABASE_URL": database_url,
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": slack.app_token,
        "PULSE_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "PULSE_COUNCIL_CHANNEL": "CCOUNCIL",
    })
    env.update(extra)
    return env


@pytest.fixture
def peer(slack: FakeSlack) -> Iterator[SocketModePeer]:
    with SocketModePeer(slack) as running:
        yield running


def test_pulse_socket_needs_no_signing_secret_and_acknowledges_and_answers_each_envelope(
    settings: Settings, database_url: str, db: Database, slack: FakeSlack, peer: SocketModePeer, tmp_path: Path
) -> None:
    for user_id in ("UANNA", "UBEN"):
        factories.person(db, user_id, tz="UTC")
        # In Slack's directory too: the daily roster sync the process's clock catches up on at
        # start-up (from its hour on) would otherwise take them off the roster.
        slack.add_user(user_id, tz="UTC")
    # This week's pulse, on the real clock the process runs on.
    schedule = settings.behaviour.schedule
    week = IsoWeek.of(now().date())
    sent_at = local_instant("UTC", week.day(schedule.pulse_day), schedule.pulse_time) + dt.timedelta(minutes=5)
    run_pulse_job(db, make_services(settings, db).messenger, settings.behaviour, at=sent_at, force=True, week=week)
    message = dm(slack, "UANNA")
    button = buttons(message)["pulse_answer:capability:3"]
    slack.reset_calls()

    app = subprocess.Popen([sys.executable, "-m", "bot", "socket"], env=socket_environment(database_url, slack),
                           cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        peer.wait_connected(timeout=60, alive=lambda: app.poll() is None)
        (opened,) = slack.calls_to("apps.connections.open")
        assert opened.token == slack.app_token
        send = Envelopes(peer)

        # A slash command: acknowledged with its envelope id, answered through its response_url.
        command = send.command("UBEN", "pause 2w")
        assert peer.ack(command) == {"envelope_id": command}
        (reply,) = slack.wait_for("response_url")
        assert reply.params["response_type"] == "ephemeral" and reply.params["text"].startswith(":double_vertical_bar: Paused")

        # A pulse button: acknowledged, then the answer recorded and the message updated.
        click = send.block_action("UANNA", button["action_id"], button["value"], channel_id="DANNA", message_ts=message["ts"])
        assert peer.ack(click) == {"envelope_id": click}
        (update,) = slack.wait_for("chat.update")
        assert "1 of 6 answered" in json.dumps(update.params["blocks"])

        # A button the app no longer has: acknowledged too, and answered instead of an error icon.
        stale = send.block_action("UANNA", "pulse_rate_week", "3", channel_id="DANNA", message_ts=message["ts"])
        assert peer.ack(stale) == {"envelope_id": stale}
        notice = slack.wait_for("response_url", count=2)[1]
        assert notice.params["text"].startswith("This button no longer works")
        assert_valid_message(notice.params["text"], notice.params["blocks"])

        app.send_signal(signal.SIGTERM)
        _, stderr = app.communicate(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0, stderr.decode(errors="replace")[-3000:]
    assert b"Traceback" not in stderr and b"SLACK_SIGNING_SECRET" not in stderr
    assert stored.answers(db, PSEUDONYM_KEY.encode()) == [("capability", 4.0)]
    assert slack.messages["CCOUNCIL"] == []  # the scheduler ran the digest at start: last week sent no pulse
    with db.session() as session:
        assert session.scalar(select(Person.paused_until).where(Person.slack_user_id == "UBEN")) is not None


def test_pulse_socket_without_an_app_token_stops_with_one_line(database_url: str, slack: FakeSlack, tmp_path: Path) -> None:
    env = socket_environment(database_url, slack)
    del env["SLACK_APP_TOKEN"]
    result = subprocess.run([sys.executable, "-m", "bot", "socket"], env=env, capture_output=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "SLACK_APP_TOKEN" in lines[0] and "Socket Mode" in lines[0]


def test_pulse_socket_with_an_app_token_slack_refuses_stops_with_one_line(
    database_url: str, slack: FakeSlack, peer: SocketModePeer, tmp_path: Path
) -> None:
    env = socket_environment(database_url, slack, SLACK_APP_TOKEN="xapp-revoked")
    result = subprocess.run([sys.executable, "-m", "bot", "socket"], env=env, capture_output=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.decode().strip().splitlines()
    assert lines == ["pulse: Slack refused Socket Mode: invalid_auth "
                     "(SLACK_APP_TOKEN must be an app-level token with connections:write)"]
    assert peer.connections == 0
