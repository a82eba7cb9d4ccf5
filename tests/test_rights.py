"""`/pulse mydata` shows everything stored about the caller; `/pulse forget` deletes it, after a confirmation."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.db import Database
from bot.models import HiddenWorkReport, Response
from bot.settings import Settings
from bot.surveys.service import run_pulse_job
from tests import factories, stored
from tests.conftest import PSEUDONYM_KEY
from tests.blockkit import assert_valid_message
from tests.harness import RunningApp, running_app
from tests.slack_server import FakeSlack
from tests.test_pulse_http import buttons, click

BERLIN = "Europe/Berlin"


@pytest.fixture
def app(settings: Settings, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    with running_app(settings, db, slack) as running:
        yield running


def slash(app: RunningApp, user_id: str, text: str) -> dict:
    app.slack.reset_calls()
    assert app.requests.command(user_id, text).status == 200
    app.settle()
    (reply,) = app.slack.calls_to("response_url")
    assert_valid_message(reply.params["text"], reply.params["blocks"])
    return reply.params


@pytest.fixture
def history(app: RunningApp, db: Database) -> None:
    for user_id in ("UANNA", "UBEN"):
        factories.person(db, user_id, tz=BERLIN, team_path="Sales/EMEA", level="entry")
    with freeze_time("2026-11-24 09:00"):
        run_pulse_job(app.db, app.services.messenger, app.services.behaviour)
    with freeze_time("2026-11-24 10:00"):
        for user_id in ("UANNA", "UBEN"):
            click(app, user_id, "pulse_answer:capability:1")
            slash(app, user_id, "log 45m review checked the forecast")


def count(db: Database, table: type) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_mydata_shows_the_callers_answers_and_hidden_work_and_nobody_elses(app: RunningApp, history: None) -> None:
    with freeze_time("2026-11-24 11:00"):
        reply = json.dumps(slash(app, "UANNA", "mydata")["blocks"], ensure_ascii=False)
    assert "Team Sales/EMEA · level entry" in reply
    assert "2026-W48 · How confident are you using the AI tools in your work?: 2" in reply
    # The note is part of what is stored, so it is shown; text in mrkdwn is escaped.
    assert "2026-W48 · validation &amp; review · 45 min · note: checked the forecast" in reply
    assert reply.count("2026-W48 ·") == 2  # Ben's identical answers are not Anna's


def test_forget_asks_first_then_deletes_only_the_callers_data(app: RunningApp, history: None, db: Database, slack: FakeSlack) -> None:
    with freeze_time("2026-11-24 11:00"):
        confirmation = slash(app, "UANNA", "forget")
        button = buttons({"blocks": confirmation["blocks"]})["forget_confirm"]
        assert button["confirm"]["confirm"]["text"] == "Delete"
        assert count(db, Response) == 2  # nothing is deleted by asking
        slack.reset_calls()
        app.requests.block_action("UANNA", "forget_confirm", "forget")
        app.settle()
    (done,) = slack.calls_to("response_url")
    assert done.params["text"] == (
        "Deleted 1 answer in 1 weekly pulse, 1 hidden-work report, 0 explainer ratings and 0 questions asked with your name. "
        "Weekly totals already released still include what you answered: they cover at least the minimum group, "
        "name nobody and are never recounted. Comments already released to the council stay with them: "
        "nothing links them to you, so they cannot be found to be deleted."
    )
    assert (count(db, Response), stored.answer_count(db, PSEUDONYM_KEY.encode()), count(db, HiddenWorkReport)) == (1, 1, 1)
    with freeze_time("2026-11-24 12:00"):
        after = json.dumps(slash(app, "UANNA", "mydata")["blocks"], ensure_ascii=False)
    assert "2026-W48 ·" not in after and "Pulses sent: 1" in after


def test_someone_outside_the_roster_is_told_nothing_is_stored(app: RunningApp, db: Database) -> None:
    reply = slash(app, "USTRANGER", "mydata")
    assert "Nothing is stored about you" in json.dumps(reply["blocks"])
