"""Answering the pulse in Slack: signed requests into POST /slack/events, replies via the Web API."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.db import Database
from bot.models import Person, Response
from bot.settings import Settings
from bot.surveys.service import run_pulse_job
from tests import factories, stored
from tests.conftest import PSEUDONYM_KEY, make_settings
from tests.harness import RunningApp, running_app
from tests.slack_requests import SignedSlack
from tests.slack_server import FakeSlack

TUESDAY_MORNING = "2026-11-24 09:00"  # 10:00 in Berlin
BERLIN = "Europe/Berlin"


@pytest.fixture
def app(settings: Settings, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    with running_app(settings, db, slack) as running:
        yield running


def send_pulse(app: RunningApp, when: str = TUESDAY_MORNING) -> None:
    with freeze_time(when):
        run_pulse_job(app.db, app.services.messenger, app.services.behaviour)


def dm(slack: FakeSlack, user_id: str) -> dict[str, Any]:
    """The pulse message in the person's DM with the app, as it stands now."""
    return slack.messages["D" + user_id[1:]][0]


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for block in message["blocks"]:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button":
                found[element["action_id"]] = element
    return found


def click(app: RunningApp, user_id: str, action_id: str) -> None:
    message = dm(app.slack, user_id)
    button = buttons(message)[action_id]
    response = app.requests.block_action(
        user_id, action_id, button.get("value"), channel_id="D" + user_id[1:], message_ts=message["ts"]
    )
    assert response.status == 200
    app.settle()


def message_text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def answers(db: Database) -> list[tuple[str, float]]:
    return stored.answers(db, PSEUDONYM_KEY.encode())


def skipped(db: Database) -> list[bool]:
    return [response.skipped for response in stored.responses(db, PSEUDONYM_KEY.encode())]


def ephemeral_replies(slack: FakeSlack) -> list[str]:
    return [call.params.get("text", "") for call in slack.calls_to("response_url")]


def test_clicking_an_answer_records_it_and_updates_the_message(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    send_pulse(app)
    with freeze_time("2026-11-24 09:05"):
        click(app, "UANNA", "pulse_answer:capability:3")
    assert answers(db) == [("capability", 4.0)]
    updated = dm(slack, "UANNA")
    chosen = buttons(updated)["pulse_answer:capability:3"]
    assert chosen.get("style") == "primary"
    assert "1 of 6 answered" in message_text(updated)


def test_double_click_records_one_answer(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    send_pulse(app)
    with freeze_time("2026-11-24 09:05"):
        click(app, "UANNA", "pulse_answer:workload:1")
        click(app, "UANNA", "pulse_answer:workload:1")
    assert answers(db) == [("workload", 2.0)]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 1


def test_an_answer_can_be_changed_until_the_round_closes(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    send_pulse(app)
    with freeze_time("2026-11-24 09:05"):
        click(app, "UANNA", "pulse_answer:capability:0")
    with freeze_time("2026-11-27 16:00"):
        click(app, "UANNA", "pulse_answer:capability:4")
    assert answers(db) == [("capability", 5.0)]
    with freeze_time("2026-11-30 12:00"):  # the round has closed
        click(app, "UANNA", "pulse_answer:capability:1")
    assert answers(db) == [("capability", 5.0)]
    assert any("has closed" in text for text in ephemeral_replies(slack))


def test_completing_the_pulse_says_thank_you(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    send_pulse(app)
    with freeze_time("2026-11-24 09:05"):
        for action_id in [a for a in buttons(dm(slack, "UANNA")) if a.endswith(":0")]:
            click(app, "UANNA", action_id)
    assert len(answers(db)) == 6
    assert "All 6 answered, thank you" in message_text(dm(slack, "UANNA"))


def test_skip_this_week_then_answer_after_all(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    send_pulse(app)
    with freeze_time("2026-11-24 09:05"):
        click(app, "UANNA", "pulse_skip")
        assert "You skipped this week" in message_text(dm(slack, "UANNA"))
        assert skipped(db) == [True]
        click(app, "UANNA", "pulse_unskip")
        click(app, "UANNA", "pulse_answer:capability:2")
    assert skipped(db) == [False]
    assert answers(db) == [("capability", 3.0)]


def test_the_comment_modal_saves_a_comment_and_the_message_says_so(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    send_pulse(app)
    with freeze_time("2026-11-24 09:05"):
        click(app, "UANNA", "pulse_comment")
        modal = slack.calls_to("views.open")[0].params["view"]
        assert modal["callback_id"] == "pulse_comment_modal"
        values = {"comment": {"comment_text": {"type": "plain_text_input", "value": "  The checker needs a second pair of eyes.  "}}}
        response = app.requests.view_submission("UANNA", "pulse_comment_modal", values, private_metadata=modal["private_metadata"])
        app.settle()
    assert response.status == 200 and response.body in (b"", b"{}")
    [response] = stored.responses(db, PSEUDONYM_KEY.encode())
    assert response.comment == "The checker needs a second pair of eyes."
    assert "Your comment is saved" in message_text(dm(slack, "UANNA"))


def test_an_empty_comment_neither_counts_as_a_response_nor_undoes_a_skip(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    factories.person(db, "UBEN", tz=BERLIN)
    send_pulse(app)
    round_id = buttons(dm(slack, "UANNA"))["pulse_comment"]["value"]
    blank = {"comment": {"comment_text": {"type": "plain_text_input", "value": "   "}}}
    with freeze_time("2026-11-24 09:05"):
        click(app, "UBEN", "pulse_skip")
        for user_id in ("UANNA", "UBEN"):
            response = app.requests.view_submission(user_id, "pulse_comment_modal", blank, private_metadata=round_id)
            assert response.status == 200
        app.settle()
    assert skipped(db) == [True]  # Ben's skip; nothing for Anna
    assert stored.answer_count(db, PSEUDONYM_KEY.encode()) == 0
    assert "You skipped this week" in message_text(dm(slack, "UBEN"))


def test_a_too_long_comment_is_refused_in_the_modal_and_nothing_is_saved(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    send_pulse(app)
    round_id = buttons(dm(slack, "UANNA"))["pulse_comment"]["value"]
    values = {"comment": {"comment_text": {"type": "plain_text_input", "value": "x" * 1001}}}
    with freeze_time("2026-11-24 09:05"):
        response = app.requests.view_submission("UANNA", "pulse_comment_modal", values, private_metadata=round_id)
        app.settle()
    assert response.status == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert "1000 characters" in body["errors"]["comment"]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Response)) == 0


def test_someone_outside_the_roster_is_told_and_nothing_is_stored(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    send_pulse(app)
    value = buttons(dm(slack, "UANNA"))["pulse_answer:capability:0"]["value"]
    with freeze_time("2026-11-24 09:05"):
        response = app.requests.block_action("USTRANGER", "pulse_answer:capability:0", value)
        app.settle()
    assert response.status == 200
    assert any("not enrolled" in text for text in ephemeral_replies(slack))
    assert answers(db) == []


def test_a_forged_button_value_is_refused_politely(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    send_pulse(app)
    with freeze_time("2026-11-24 09:05"):
        for value in ["garbage", "999:capability:0", "1:nosuchquestion:0", "1:capability:9"]:
            assert app.requests.block_action("UANNA", "pulse_answer:capability:0", value).status == 200
        app.settle()
    assert answers(db) == []
    assert len(ephemeral_replies(slack)) == 4


@pytest.mark.parametrize("problem", ["wrong secret", "stale timestamp", "no signature"])
def test_a_request_not_signed_by_slack_is_rejected_and_changes_nothing(
    app: RunningApp, db: Database, slack: FakeSlack, problem: str
) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    send_pulse(app)
    message = dm(slack, "UANNA")
    value = buttons(message)["pulse_answer:capability:3"]["value"]
    payload = {
        "type": "block_actions",
        "user": {"id": "UANNA"},
        "actions": [{"action_id": "pulse_answer:capability:3", "block_id": "a", "type": "button", "value": value}],
        "container": {"type": "message", "channel_id": "DANNA", "message_ts": message["ts"]},
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    with freeze_time("2026-11-24 09:05"):
        if problem == "wrong secret":
            headers = SignedSlack(app.url, "not-the-secret").signed_headers(body, "application/x-www-form-urlencoded")
        elif problem == "stale timestamp":
            headers = app.requests.signed_headers(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 600)
        else:
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        response = app.requests.post_raw(body, headers)
        app.settle()
    assert response.status == 401
    assert answers(db) == []
    assert slack.calls_to("chat.update") == []


def slash(app: RunningApp, user_id: str, text: str) -> str:
    app.slack.reset_calls()
    response = app.requests.command(user_id, text)
    assert response.status == 200
    app.settle()
    replies = app.slack.calls_to("response_url")
    assert len(replies) == 1
    reply = replies[0].params
    assert reply.get("response_type") == "ephemeral"
    return reply.get("text", "") + json.dumps(reply.get("blocks", []), ensure_ascii=False)


def test_pulse_with_no_text_or_help_explains_the_commands(app: RunningApp, db: Database) -> None:
    for text in ["", "help"]:
        reply = slash(app, "UANNA", text)
        assert "/pulse pause 2w" in reply and "/pulse resume" in reply


def test_an_unknown_subcommand_gets_help_with_what_went_wrong(app: RunningApp, db: Database) -> None:
    reply = slash(app, "UANNA", "frobnicate now")
    assert "I don't know" in reply and "/pulse pause 2w" in reply


def test_pause_and_resume_from_the_slash_command(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    with freeze_time("2026-11-20 12:00"):
        assert "Paused through Thursday 03 December" in slash(app, "UANNA", "pause 2w")
    send_pulse(app)
    assert slack.calls_to("chat.postMessage") == []
    with freeze_time("2026-11-24 10:00"):
        assert "Resumed" in slash(app, "UANNA", "resume")
    send_pulse(app, "2026-11-24 10:05")
    assert len(slack.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize("text", ["pause 0w", "pause 27w", "pause soon", "pause -2w"])
def test_a_pause_that_cannot_be_read_says_how_to_write_it(app: RunningApp, db: Database, text: str) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    reply = slash(app, "UANNA", text)
    assert "/pulse pause 2w" in reply
    with db.session() as session:
        assert session.scalars(select(Person.paused_until)).one() is None


def test_pause_without_a_duration_lasts_until_resumed(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    assert "until you `/pulse resume`" in slash(app, "UANNA", "pause")
    send_pulse(app, "2027-03-02 09:00")
    assert slack.calls_to("chat.postMessage") == []


def test_pause_for_someone_outside_the_roster_says_they_are_not_enrolled(app: RunningApp, db: Database) -> None:
    assert "not enrolled" in slash(app, "USTRANGER", "pause 2w")


def open_home(app: RunningApp, user_id: str) -> str:
    app.slack.reset_calls()
    response = app.requests.event({"type": "app_home_opened", "user": user_id, "channel": "D" + user_id[1:], "tab": "home"})
    assert response.status == 200
    app.settle()
    published = app.slack.calls_to("views.publish")
    assert [call.params["user_id"] for call in published] == [user_id]
    return json.dumps(published[0].params["view"], ensure_ascii=False)


def test_app_home_shows_the_week_from_waiting_to_answered(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    with freeze_time("2026-11-23 12:00"):
        assert "Your pulse arrives" in open_home(app, "UANNA")
    send_pulse(app)
    with freeze_time("2026-11-24 09:05"):
        assert "waiting in your messages" in open_home(app, "UANNA")
        click(app, "UANNA", "pulse_answer:capability:3")
        assert "1 of 6 answered" in open_home(app, "UANNA")


def test_app_home_tells_someone_outside_the_roster_how_to_join(app: RunningApp, db: Database) -> None:
    assert "not enrolled" in open_home(app, "USTRANGER")


def test_app_home_pause_button_pauses_and_offers_resume(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    with freeze_time("2026-11-23 12:00"):
        app.requests.block_action("UANNA", "home_pause", "2", view={"id": "VHOME", "type": "home"})
        app.settle()
    view = json.dumps(slack.calls_to("views.publish")[-1].params["view"])
    assert "paused through" in view and "home_resume" in view
    send_pulse(app)
    assert slack.calls_to("chat.postMessage") == []


def test_the_app_home_pause_lasts_as_long_as_the_behaviour_file_says(
    database_url: str, db: Database, slack: FakeSlack, tmp_path: Path
) -> None:
    config = tmp_path / "behaviour.yml"
    config.write_text("schedule:\n  home_pause_weeks: 4\n", encoding="utf-8")
    settings = make_settings(database_url=database_url, slack_api_url=slack.url, pulse_config=config)
    factories.person(db, "UANNA", tz=BERLIN)
    with running_app(settings, db, slack) as app, freeze_time("2026-11-23 12:00"):
        home = json.loads(open_home(app, "UANNA"))
        [button] = [e for b in home["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "home_pause"]
        assert (button["text"]["text"], button["value"]) == ("Pause for 4 weeks", "4")
        app.requests.block_action("UANNA", "home_pause", button["value"], view={"id": "VHOME", "type": "home"})
        app.settle()
    view = json.dumps(slack.calls_to("views.publish")[-1].params["view"])
    # Four pulse weeks from Monday 23 November: W48 to W51, so paused through Sunday 20 December.
    assert "paused through Sun 20 Dec" in view


def test_healthz_answers_ok_when_the_database_answers(app: RunningApp) -> None:
    with urllib.request.urlopen(app.url + "/healthz", timeout=5) as response:
        assert response.status == 200 and response.read() == b"ok"


def test_healthz_answers_503_when_the_database_is_down(settings: Settings, slack: FakeSlack) -> None:
    broken = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with running_app(settings, broken, slack) as app:
        with pytest.raises(urllib.error.HTTPError) as failure:
            urllib.request.urlopen(app.url + "/healthz", timeout=10)
    assert failure.value.code == 503
