"""Buttons from an older message or an older version of the app: every click is acknowledged and
answered with what to do instead, never left to Slack's error icon.

Signed clicks into POST /slack/events; replies are read where Slack would show them (the
response_url, the person's DM, the Home tab) on the local Slack server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import delete

from bot.db import Database
from bot.models import PulseRound
from bot.settings import Settings
from bot.slack.council import STALE_BUTTON as STALE_DIGEST_BUTTON
from bot.slack.explainers import STALE_BUTTON as STALE_EXPLAINER_BUTTON
from bot.slack.pulse import STALE_BUTTON as STALE_PULSE_BUTTON
from bot.slack.stale import STALE_BUTTON
from tests import factories
from tests.blockkit import assert_valid_message
from tests.harness import RunningApp, running_app
from tests.slack_server import Call, FakeSlack
from tests.test_hostile_requests import snapshot
from tests.test_pulse_http import answers, buttons, dm, send_pulse

LATER = "2026-11-24 09:30"


@pytest.fixture
def app(settings: Settings, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    factories.person(db, "UANNA", tz="Europe/Berlin", council=True)
    with running_app(settings, db, slack) as running:
        send_pulse(running)
        slack.reset_calls()
        yield running


def click(app: RunningApp, action_id: str, value: str | None, **where: Any) -> int:
    """Anna clicks; the default is a button on her pulse message."""
    if "view" not in where:
        where.setdefault("channel_id", "DANNA")
        where.setdefault("message_ts", dm(app.slack, "UANNA")["ts"])
    with freeze_time(LATER):
        status = app.requests.block_action("UANNA", action_id, value, **where).status
        app.settle()
    return status


def the_reply(slack: FakeSlack) -> Call:
    (reply,) = slack.calls_to("response_url")
    assert reply.params["response_type"] == "ephemeral"
    assert reply.params["replace_original"] is False  # the message clicked on stays as it was
    assert_valid_message(reply.params["text"], reply.params["blocks"])
    return reply


@pytest.mark.parametrize("action_id", ["pulse_rate_week", "explainer_more", "home_pause_4w", "x" * 255])
def test_a_button_the_app_no_longer_has_is_answered_under_its_message(app: RunningApp, db: Database, action_id: str) -> None:
    before = snapshot(db)
    assert click(app, action_id, "3") == 200
    assert the_reply(app.slack).params["text"] == STALE_BUTTON
    assert "/pulse help" in STALE_BUTTON and "Home tab" in STALE_BUTTON
    assert snapshot(db) == before


def test_an_unknown_button_on_app_home_shows_the_current_home_and_says_so_in_the_dm(app: RunningApp) -> None:
    assert click(app, "home_snooze", "1", view={"type": "home", "callback_id": "", "private_metadata": ""}) == 200
    (home,) = app.slack.calls_to("views.publish")
    assert home.params["user_id"] == "UANNA"
    (notice,) = [call for call in app.slack.calls_to("chat.postMessage") if call.params["channel"] == "UANNA"]
    assert notice.params["text"] == STALE_BUTTON
    assert_valid_message(notice.params["text"], notice.params["blocks"])
    assert app.slack.calls_to("response_url") == []


def test_an_unknown_button_in_a_form_is_answered_in_the_dm(app: RunningApp) -> None:
    assert click(app, "log_more_detail", None, view={"type": "modal", "callback_id": "log_work_modal", "private_metadata": ""}) == 200
    (notice,) = app.slack.calls_to("chat.postMessage")
    assert notice.params["channel"] == "UANNA" and notice.params["text"] == STALE_BUTTON


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("pulse_answer:capability:3", "capability=3"),  # a value written another way
        ("pulse_answer:capability:3", "{round}:trust_in_ai:3"),  # a question this pulse does not have
        ("pulse_answer:capability:3", "999:capability:3"),  # a pulse that is gone
        ("pulse_skip", "999"),
        ("pulse_unskip", "999"),
        ("pulse_comment", "999"),
        ("pulse_comment", "week-48"),
    ],
)
def test_a_pulse_button_for_a_pulse_or_question_that_is_gone_says_where_the_current_one_is(
    app: RunningApp, db: Database, action_id: str, value: str
) -> None:
    round_id = buttons(dm(app.slack, "UANNA"))["pulse_comment"]["value"]
    before = snapshot(db)
    assert click(app, action_id, value.format(round=round_id)) == 200
    assert the_reply(app.slack).params["text"] == STALE_PULSE_BUTTON
    assert snapshot(db) == before
    assert app.slack.calls_to("chat.update") == [] and app.slack.calls_to("views.open") == []


def test_a_pulse_message_whose_round_was_removed_answers_every_button(app: RunningApp, db: Database) -> None:
    pulse = buttons(dm(app.slack, "UANNA"))
    with db.session() as session:
        session.execute(delete(PulseRound))
    for action_id in ("pulse_answer:capability:3", "pulse_skip", "pulse_comment"):
        app.slack.reset_calls()
        assert click(app, action_id, pulse[action_id]["value"]) == 200
        assert the_reply(app.slack).params["text"] == STALE_PULSE_BUTTON, action_id
    assert answers(db) == []


@pytest.mark.parametrize("action_id", ["explainer_helpful", "explainer_not_helpful", "explainer_question"])
def test_an_explainer_button_for_an_explainer_no_longer_in_the_library_says_so(app: RunningApp, action_id: str) -> None:
    assert click(app, action_id, "retired-explainer") == 200
    assert the_reply(app.slack).params["text"] == STALE_EXPLAINER_BUTTON
    assert app.slack.calls_to("views.open") == []


@pytest.mark.parametrize("value", ["999:2026-W48:pause", "1:W48:pause", "1:2026-W48"])
def test_a_digest_decision_for_a_rollout_or_week_that_is_gone_says_to_use_the_latest_digest(
    app: RunningApp, db: Database, value: str
) -> None:
    before = snapshot(db)
    assert click(app, "digest_decision:pause", value, channel_id="CCOUNCIL", message_ts="1700000000.000100") == 200
    assert the_reply(app.slack).params["text"] == STALE_DIGEST_BUTTON
    assert snapshot(db) == before
    assert app.slack.calls_to("chat.postMessage") == []  # nothing in the digest's thread
