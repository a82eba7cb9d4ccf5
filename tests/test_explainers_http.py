"""Explainers in Slack: signed requests into POST /slack/events, replies via the local Slack server."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from freezegun import freeze_time
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import func, select

from bot.clock import JobContext, run_job
from bot.db import Database
from bot.explainers.library import Explainer, load_library
from bot.explainers.service import run_explainer_job
from bot.explainers.views import CouncilQuestion, ExplainerView, QuestionReceipt
from bot.models import (
    ExplainerFeedback,
    ExplainerQuestion,
    Person,
    Rollout,
    RolloutTeam,
)
from bot.settings import Settings
from bot.slack.blocks.explainers import (
    council_question_message,
    explainer_message,
    question_confirmation,
    question_modal,
    question_unavailable_modal,
)
from bot.weeks import UTC
from tests import factories, stored
from tests.conftest import PSEUDONYM_KEY
from tests.conftest import make_settings
from tests.harness import RunningApp, running_app
from tests.slack_server import FakeSlack

THURSDAY_MORNING = "2026-11-26 09:00"  # 10:00 in Berlin, in the go-live week
LATER = "2026-11-26 09:05"
BERLIN = "Europe/Berlin"
GO_LIVE_EXPLAINER = "what-changes-at-go-live"
SHIPPED = load_library()


# ---------------------------------------------------------------- Block Kit limits

# tests/blockkit.py (assert_valid_blocks) is being written alongside this; until it lands these
# checks rely on slack_sdk's models, which raise on every length limit they know, plus the limits
# Slack enforces on whole surfaces.
MAX_BLOCKS = {"message": 50, "modal": 100}


def assert_valid_blocks(blocks: list[dict[str, Any]], *, surface: str) -> None:
    assert 0 < len(blocks) <= MAX_BLOCKS[surface]
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), "block ids repeat"
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, f"not a block Slack knows: {block.get('type')}"
        parsed.to_dict()  # validates the block and everything in it, raising on a broken limit
        action_ids = [e["action_id"] for e in block.get("elements", []) if "action_id" in e]
        assert len(action_ids) == len(set(action_ids)), "action ids repeat within a block"


def assert_valid_modal(view: dict[str, Any]) -> None:
    View(**view).to_dict()
    assert len(view.get("private_metadata", "")) <= 3000
    assert_valid_blocks(view["blocks"], surface="modal")


# ---------------------------------------------------------------- helpers

COLLEAGUES = ("UBEN", "UCARA", "UDAN", "UEVA")  # with Anna, the minimum group of five
PARIS = "Europe/Paris"  # Berlin's clock, another time zone: recipients then span two


def zone_of(user_id: str) -> str:
    return PARIS if user_id == "UEVA" else BERLIN


@pytest.fixture
def app(settings: Settings, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    with running_app(settings, db, slack) as running:
        yield running


def go_live(db: Database, *user_ids: str, level: str = "experienced") -> None:
    """These people, in Sales, which went live on Monday 23 November 2026."""
    team_id = factories.team(db, "Sales")
    with db.session() as session:
        rollout = Rollout(name="Forecast assistant", go_live=dt.date(2026, 11, 23), created_at=dt.datetime(2026, 1, 1, tzinfo=UTC))
        session.add(rollout)
        session.flush()
        session.add(RolloutTeam(rollout_id=rollout.id, team_id=team_id))
    for user_id in user_ids:
        factories.person(db, user_id, tz=zone_of(user_id), level=level)


def send_explainers(app: RunningApp, when: str = THURSDAY_MORNING) -> None:
    with freeze_time(when):
        run_explainer_job(app.db, app.services.messenger, app.services.behaviour, app.settings.explainers)


def dm(slack: FakeSlack, user_id: str, index: int = 0) -> dict[str, Any]:
    return slack.messages["D" + user_id[1:]][index]


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        element["action_id"]: element
        for block in message["blocks"]
        for element in block.get("elements", [])
        if element.get("type") == "button"
    }


def click(app: RunningApp, user_id: str, action_id: str, value: str | None = None) -> None:
    message = dm(app.slack, user_id)
    value = buttons(message)[action_id]["value"] if value is None else value
    response = app.requests.block_action(
        user_id, action_id, value, channel_id="D" + user_id[1:], message_ts=message["ts"], trigger_id="trig-42"
    )
    assert response.status == 200
    app.settle()


def ask(app: RunningApp, user_id: str, text: str, *, named: bool = False, key: str = GO_LIVE_EXPLAINER) -> Any:
    ticked = [{"value": "named", "text": {"type": "plain_text", "text": "Include my name"}}] if named else []
    values = {
        "question_text": {"question_text": {"type": "plain_text_input", "value": text}},
        "question_named": {"question_named": {"type": "checkboxes", "selected_options": ticked}},
    }
    with freeze_time(LATER):
        response = app.requests.view_submission(user_id, "explainer_question_modal", values, private_metadata=key)
        app.settle()
    assert response.status == 200
    return response.json() if response.body not in (b"", b"{}") else None


def as_text(blocks: Any) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def feedback_rows(db: Database) -> list[tuple[str, bool]]:
    return [(explainer, helpful) for explainer, _, helpful, _ in stored.ratings(db, PSEUDONYM_KEY.encode())]


def questions(db: Database) -> list[ExplainerQuestion]:
    with db.session() as session:
        return list(session.scalars(select(ExplainerQuestion)))


def ephemeral_replies(slack: FakeSlack) -> list[str]:
    return [call.params.get("text", "") for call in slack.calls_to("response_url")]


def person_id(db: Database, user_id: str) -> int:
    with db.session() as session:
        return session.scalars(select(Person.id).where(Person.slack_user_id == user_id)).one()


# ---------------------------------------------------------------- the DM and feedback


def test_the_explainer_arrives_with_its_title_body_and_three_buttons(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    go_live(db, "UANNA")
    send_explainers(app)
    message = dm(slack, "UANNA")
    assert_valid_blocks(message["blocks"], surface="message")
    assert message["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": SHIPPED.get(GO_LIVE_EXPLAINER).title, "emoji": True}}
    assert "30–40% of their productivity" in as_text(message["blocks"])
    assert "*What changes*" in as_text(message["blocks"])  # Markdown bold became Slack bold
    assert set(buttons(message)) == {"explainer_helpful", "explainer_not_helpful", "explainer_question"}
    assert message["text"].startswith("This week's explainer:")


def test_clicking_helpful_records_it_and_updates_the_message_in_place(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    go_live(db, "UANNA")
    send_explainers(app)
    with freeze_time(LATER):
        click(app, "UANNA", "explainer_helpful")
    assert feedback_rows(db) == [(GO_LIVE_EXPLAINER, True)]
    updated = dm(slack, "UANNA")
    assert len(slack.messages["DANNA"]) == 1  # updated, not a second message
    assert_valid_blocks(updated["blocks"], surface="message")
    assert buttons(updated)["explainer_helpful"].get("style") == "primary"
    assert "style" not in buttons(updated)["explainer_not_helpful"]
    assert "recorded that this helped" in as_text(updated["blocks"])


def test_a_double_click_and_a_change_of_mind_keep_one_row_per_person(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    go_live(db, "UANNA", "UBEN")
    send_explainers(app)
    with freeze_time(LATER):
        click(app, "UANNA", "explainer_helpful")
        click(app, "UANNA", "explainer_helpful")
        click(app, "UANNA", "explainer_not_helpful")
        click(app, "UBEN", "explainer_helpful")
    assert sorted(feedback_rows(db)) == [(GO_LIVE_EXPLAINER, False), (GO_LIVE_EXPLAINER, True)]
    assert buttons(dm(slack, "UANNA"))["explainer_not_helpful"].get("style") == "primary"
    assert "did not help" in as_text(dm(slack, "UANNA")["blocks"])


def test_feedback_is_stored_without_the_persons_id(app: RunningApp, db: Database) -> None:
    go_live(db, "UANNA")
    send_explainers(app)
    with freeze_time(LATER):
        click(app, "UANNA", "explainer_helpful")
    with db.session() as session:
        row = session.scalars(select(ExplainerFeedback)).one()
        values = [str(getattr(row, column.key)) for column in ExplainerFeedback.__table__.columns]
    assert not any("UANNA" in value for value in values)
    # Nor team, level or time: only the week of the first rating, which is all a release needs.
    assert {c.key for c in ExplainerFeedback.__table__.columns} == {"id", "explainer_key", "pseudonym", "first_week", "sealed"}
    assert stored.ratings(db, PSEUDONYM_KEY.encode()) == [(row.explainer_key, "2026-W48", True, True)]


@pytest.mark.parametrize("value", ["who-decides-on-a-pause", "no-such-explainer", "", "../../etc"])
def test_feedback_on_an_explainer_not_sent_to_you_is_refused_politely(
    app: RunningApp, db: Database, slack: FakeSlack, value: str
) -> None:
    go_live(db, "UANNA")
    send_explainers(app)
    with freeze_time(LATER):
        click(app, "UANNA", "explainer_helpful", value=value)
    assert feedback_rows(db) == []
    assert len(ephemeral_replies(slack)) == 1
    assert slack.calls_to("chat.update") == []


def test_someone_outside_the_roster_is_told_they_are_not_enrolled(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    go_live(db, "UANNA")
    send_explainers(app)
    with freeze_time(LATER):
        app.requests.block_action("USTRANGER", "explainer_helpful", GO_LIVE_EXPLAINER)
        app.settle()
    assert feedback_rows(db) == []
    assert any("not enrolled" in text for text in ephemeral_replies(slack))


# ---------------------------------------------------------------- questions


def test_the_question_button_opens_a_modal_with_the_name_unticked(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    go_live(db, "UANNA")
    send_explainers(app)
    with freeze_time(LATER):
        click(app, "UANNA", "explainer_question")
    [call] = slack.calls_to("views.open")
    modal = call.params["view"]
    assert call.params["trigger_id"] == "trig-42"
    assert_valid_modal(modal)
    assert (modal["callback_id"], modal["private_metadata"]) == ("explainer_question_modal", GO_LIVE_EXPLAINER)
    text_input = next(b for b in modal["blocks"] if b.get("block_id") == "question_text")["element"]
    assert (text_input["multiline"], text_input["max_length"]) == (True, 1000)
    named = next(b for b in modal["blocks"] if b.get("block_id") == "question_named")
    assert named["optional"] is True and "initial_options" not in named["element"]
    assert named["element"]["options"][0]["text"]["text"] == "Include my name"


def test_an_anonymous_question_reaches_the_council_without_a_name_in_the_daily_batch(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    go_live(db, "UANNA", *COLLEAGUES)
    send_explainers(app)
    assert ask(app, "UANNA", "  Who checks the drafts before they go out?  ") is None
    assert "CCOUNCIL" not in slack.messages  # not at once: its time would point at who asked
    confirmation = dm(slack, "UANNA", 1)
    assert_valid_blocks(confirmation["blocks"], surface="message")
    assert "saved without your name" in as_text(confirmation["blocks"]) and "once a day" in as_text(confirmation["blocks"])
    with freeze_time("2026-11-26 14:00"):
        run = run_job("questions", JobContext(app.settings, app.db, app.services.messenger))
    assert run.summary() == "questions 2026-11-26: posted 1, held 0, failed 0"
    [post] = slack.messages["CCOUNCIL"]
    assert_valid_blocks(post["blocks"], surface="message")
    shown = as_text(post["blocks"]) + post["text"] + json.dumps(post.get("metadata"))
    assert "Someone asked about the explainer" in shown
    assert "Who checks the drafts before they go out?" in shown
    assert "UANNA" not in shown and "Sales" not in shown and "experienced" not in shown
    [row] = questions(db)
    assert (row.text, row.person_id, row.explainer_key) == ("Who checks the drafts before they go out?", None, GO_LIVE_EXPLAINER)
    assert (row.channel_id, row.message_ts, row.week) == ("CCOUNCIL", post["ts"], "2026-W48")


def test_an_unnamed_question_about_an_explainer_few_received_asks_for_a_name_in_the_modal(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    go_live(db, "UANNA", *COLLEAGUES[:3])
    send_explainers(app)
    answer = ask(app, "UANNA", "Why were we first?")
    assert answer["response_action"] == "errors"
    assert "Fewer than 5 people" in answer["errors"]["question_named"] and "Include my name" in answer["errors"]["question_named"]
    assert questions(db) == [] and "CCOUNCIL" not in slack.messages
    assert ask(app, "UANNA", "Why were we first?", named=True) is None
    assert "<@UANNA> asked about the explainer" in as_text(slack.messages["CCOUNCIL"][0]["blocks"])


def test_a_named_question_shows_who_asked(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    go_live(db, "UANNA")
    send_explainers(app)
    ask(app, "UANNA", "Do my targets change during the rollout?", named=True)
    [post] = slack.messages["CCOUNCIL"]
    assert_valid_blocks(post["blocks"], surface="message")
    assert "<@UANNA> asked about the explainer" in as_text(post["blocks"])
    assert questions(db)[0].person_id == person_id(db, "UANNA")
    assert "with your name" in as_text(dm(slack, "UANNA", 1)["blocks"])


def test_question_text_is_escaped_so_it_cannot_ping_the_channel(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    go_live(db, "UANNA", *COLLEAGUES)
    send_explainers(app)
    ask(app, "UANNA", "<!channel> why is R&D first?\n<https://evil.example|click>")
    with freeze_time("2026-11-26 14:00"):
        run_job("questions", JobContext(app.settings, app.db, app.services.messenger))
    shown = as_text(slack.messages["CCOUNCIL"][0]["blocks"])
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown and "R&amp;D" in shown
    assert questions(db)[0].text.startswith("<!channel> why")  # stored as written


@pytest.mark.parametrize(("text", "says"), [("", "empty"), ("   \n  ", "empty"), ("x" * 1001, "1000 characters")])
def test_an_empty_or_too_long_question_is_refused_in_the_modal_and_nothing_is_stored(
    app: RunningApp, db: Database, slack: FakeSlack, text: str, says: str
) -> None:
    go_live(db, "UANNA")
    send_explainers(app)
    answer = ask(app, "UANNA", text)
    assert answer["response_action"] == "errors"
    assert says in answer["errors"]["question_text"]
    assert questions(db) == []
    assert "CCOUNCIL" not in slack.messages
    assert len(slack.messages["DANNA"]) == 1  # no confirmation


def test_a_question_about_an_explainer_never_sent_is_refused_in_the_modal(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    go_live(db, "UANNA")
    send_explainers(app)
    for key in ("who-decides-on-a-pause", "forged"):
        answer = ask(app, "UANNA", "A fine question", key=key)
        assert answer["response_action"] == "errors"
    assert ask(app, "USTRANGER", "A fine question")["response_action"] == "errors"
    assert questions(db) == []
    assert "CCOUNCIL" not in slack.messages


def test_a_question_slack_cannot_post_is_kept_and_the_asker_told(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    go_live(db, "UANNA", *COLLEAGUES)
    send_explainers(app)
    slack.fail("chat.postMessage", error="not_in_channel")
    ask(app, "UANNA", "Who decides on a pause?", named=True)
    [row] = questions(db)
    assert row.message_ts is None
    confirmation = dm(slack, "UANNA", 1)
    assert "is saved" in as_text(confirmation["blocks"]) and "next daily batch" in as_text(confirmation["blocks"])


def test_question_text_never_reaches_the_logs(app: RunningApp, db: Database, caplog: pytest.LogCaptureFixture) -> None:
    go_live(db, "UANNA", *COLLEAGUES)
    send_explainers(app)
    caplog.set_level(logging.INFO)
    ask(app, "UANNA", "A worry I would rather not see in a log file")
    ask(app, "UANNA", "x" * 1001)
    assert len(questions(db)) == 1
    assert "A worry I would rather not see" not in caplog.text and "xxxxxxxxxx" not in caplog.text


@pytest.fixture
def app_without_council(database_url: str, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    settings = make_settings(database_url=database_url, slack_api_url=slack.url, pulse_council_channel=None)
    with running_app(settings, db, slack) as running:
        yield running


def test_without_a_council_channel_the_question_modal_says_so_instead_of_losing_the_question(
    app_without_council: RunningApp, db: Database, slack: FakeSlack
) -> None:
    app = app_without_council
    go_live(db, "UANNA")
    send_explainers(app)
    with freeze_time(LATER):
        click(app, "UANNA", "explainer_question")
    modal = slack.calls_to("views.open")[0].params["view"]
    assert_valid_modal(modal)
    assert "PULSE_COUNCIL_CHANNEL" in as_text(modal["blocks"])
    assert "submit" not in modal and not any(b["type"] == "input" for b in modal["blocks"])
    # A submission that gets here anyway (a modal opened before the setting was removed) is refused.
    answer = ask(app, "UANNA", "Where does this go?")
    assert answer["response_action"] == "errors"
    assert "PULSE_COUNCIL_CHANNEL" in answer["errors"]["question_text"]
    assert questions(db) == []


# ---------------------------------------------------------------- every builder within Slack's limits


def worst_case_explainer() -> Explainer:
    return Explainer(
        key="k" * 60,
        title="T" * 150,
        week_offset=None,
        body=("& <b> **bold** [link](https://example.com/?a=1&b=2) " * 60)[:2800],
    )


@pytest.mark.parametrize("explainer", [*SHIPPED, worst_case_explainer()], ids=lambda e: e.key[:20])
@pytest.mark.parametrize("helpful", [None, True, False])
def test_every_explainer_message_fits_block_kit(explainer: Explainer, helpful: bool | None) -> None:
    assert_valid_blocks(explainer_message(ExplainerView(explainer, helpful)), surface="message")


@pytest.mark.parametrize("explainer", [*SHIPPED, worst_case_explainer()], ids=lambda e: e.key[:20])
def test_every_question_modal_fits_block_kit(explainer: Explainer) -> None:
    assert_valid_modal(question_modal(explainer))


@pytest.mark.parametrize("text", ["Why?", "&" * 1000, "<@U1>\n" * 166, "line\n\n" * 140])
@pytest.mark.parametrize("asker", [None, "UANNA"])
def test_council_posts_and_confirmations_fit_block_kit_whatever_was_asked(text: str, asker: str | None) -> None:
    question = CouncilQuestion(1, "k" * 60, "T" * 150, text, dt.datetime(2026, 11, 26, tzinfo=UTC), asker)
    assert_valid_blocks(council_question_message(question), surface="message")
    for posted in (True, False):
        assert_valid_blocks(question_confirmation(QuestionReceipt(question, posted)), surface="message")


def test_the_refusal_modal_fits_block_kit() -> None:
    assert_valid_modal(question_unavailable_modal("x" * 500))


def test_feedback_rows_exist_only_for_people_who_clicked(app: RunningApp, db: Database) -> None:
    go_live(db, "UANNA", "UBEN", "UCARL")
    send_explainers(app)
    with freeze_time(LATER):
        click(app, "UBEN", "explainer_not_helpful")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ExplainerFeedback)) == 1
