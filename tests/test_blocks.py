"""Every pulse message, reminder, modal, home view and reply we build stays within Block Kit's limits.

Slack refuses a payload that breaks a limit (invalid_blocks) and the person gets nothing, so the
builders are checked with the real question bank, in every state a person can see, and so are
the payloads the app actually sent to the local Slack server.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.db import Database
from bot.labour.categories import CATEGORY_NAMES
from bot.labour.views import CategoryMinutes, HiddenWorkSummary, WeekMinutes
from bot.models import COMMENT_MAX_CHARS, PAUSED_UNTIL_RESUMED, PulseRound
from bot.settings import QuestionBank, Settings, load_behaviour, load_settings
from bot.slack.app import make_services
from bot.slack.blocks.home import home_view
from bot.slack.blocks.pulse import (
    comment_modal,
    pulse_message,
    pulse_text,
    reminder_message,
    reminder_text,
)
from bot.slack.blocks.replies import help_message, problem_message
from bot.surveys.bank import questions_for_week
from bot.surveys.service import (
    delivery_message,
    record_answer,
    record_comment,
    run_pulse_job,
    run_reminder_job,
    skip_week,
)
from bot.surveys.views import PulseView, WeekStatus
from bot.weeks import IsoWeek, round_closes_at
from tests import factories
from tests.blockkit import assert_valid_blocks
from tests.conftest import make_settings
from tests.slack_server import FakeSlack

MIN_GROUP = 5
# Six consecutive weeks across a year boundary: every rotating question of the bank comes up.
WEEKS = [IsoWeek(2026, 48), IsoWeek(2026, 49), IsoWeek(2026, 50), IsoWeek(2026, 51), IsoWeek(2026, 52), IsoWeek(2027, 1)]
STATES = ["fresh", "partly answered", "complete", "complete with a long comment", "skipped", "closed", "closed after a skip"]
ROUND_ID = 2_147_483_647  # the largest id a button value may have to carry


def default_bank() -> QuestionBank:
    return load_settings(_env_file=None).behaviour.questions


def pulse_in_state(state: str, week: IsoWeek, bank: QuestionBank | None = None) -> PulseView:
    questions = questions_for_week(bank or default_bank(), week)
    closed_questions = [q for q in questions if q.kind != "text"]
    every_answer = {q.key: len(q.options) - 1 for q in closed_questions}  # the longest labels come last
    pulse = PulseView(ROUND_ID, str(week), round_closes_at(week), questions)
    return {
        "fresh": pulse,
        "partly answered": PulseView(**{**pulse.__dict__, "chosen": dict(list(every_answer.items())[:2])}),
        "complete": PulseView(**{**pulse.__dict__, "chosen": every_answer}),
        "complete with a long comment": PulseView(**{**pulse.__dict__, "chosen": every_answer, "comment": "ü" * 1000}),
        "skipped": PulseView(**{**pulse.__dict__, "skipped": True}),
        "closed": PulseView(**{**pulse.__dict__, "chosen": dict(list(every_answer.items())[:1]), "closed": True}),
        "closed after a skip": PulseView(**{**pulse.__dict__, "skipped": True, "closed": True}),
    }[state]


def mrkdwn_texts(payload: Any) -> list[str]:
    """Every text Slack parses for mentions and links: mrkdwn objects and a message's fallback text."""
    found: list[str] = []
    if isinstance(payload, dict):
        if payload.get("type") == "mrkdwn" or ("blocks" in payload and isinstance(payload.get("text"), str)):
            found.append(payload["text"])
        for value in payload.values():
            found += mrkdwn_texts(value)
    elif isinstance(payload, list):
        for item in payload:
            found += mrkdwn_texts(item)
    return found


# Our own dates (`<!date^…|…>`) are the only special syntax a builder writes on purpose.
OUR_DATES = re.compile(r"<!date\^\d+\^[^|>]*\|[^>]*>")


def pings(text: str) -> list[str]:
    return re.findall(r"<[!@#][^>]*>", OUR_DATES.sub("", text))


# ---------------------------------------------------------------- the pulse DM, reminder, modal


def test_the_weeks_checked_ask_every_question_in_the_bank() -> None:
    bank = default_bank()
    asked = {q.key for week in WEEKS for q in questions_for_week(bank, week)}
    assert asked == {q.key for q in (*bank.core, *bank.rotating)}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("week", WEEKS, ids=str)
def test_the_pulse_message_fits_block_kit_every_week_in_every_state(week: IsoWeek, state: str) -> None:
    pulse = pulse_in_state(state, week)
    message = {"text": pulse_text(pulse), "blocks": pulse_message(pulse, min_group=MIN_GROUP)}
    assert_valid_blocks(message, surface="message")
    assert str(week) in message["text"]


@pytest.mark.parametrize("state", ["fresh", "partly answered"])
@pytest.mark.parametrize("week", WEEKS, ids=str)
def test_the_reminder_fits_block_kit(week: IsoWeek, state: str) -> None:
    pulse = pulse_in_state(state, week)
    assert_valid_blocks({"text": reminder_text(pulse), "blocks": reminder_message(pulse)}, surface="message")


@pytest.mark.parametrize("comment", [None, "ü" * 1000, "x" * COMMENT_MAX_CHARS], ids=["empty", "1000 chars", "at the limit"])
def test_the_comment_modal_fits_block_kit_and_shows_the_saved_comment(comment: str | None) -> None:
    pulse = PulseView(**{**pulse_in_state("complete", WEEKS[0]).__dict__, "comment": comment})
    modal = comment_modal(pulse, min_group=5)
    assert_valid_blocks(modal, surface="modal")
    field = modal["blocks"][0]["element"]
    assert field.get("initial_value") == comment  # the person edits what they wrote, not a blank box
    assert field["max_length"] == COMMENT_MAX_CHARS


# ---------------------------------------------------------------- App Home


def hidden_work() -> HiddenWorkSummary:
    return HiddenWorkSummary(
        week="2026-W48",
        by_category=[CategoryMinutes(category, 600 + i) for i, category in enumerate(CATEGORY_NAMES)],
        previous_weeks=[WeekMinutes(str(IsoWeek(2026, 47 - i)), 90 * i) for i in range(12)],
    )


HOME_STATES = {
    "not enrolled": WeekStatus(enrolled=False, week="2026-W48"),
    "paused until a date": WeekStatus(enrolled=True, week="2026-W48", paused_until=dt.date(2026, 12, 7)),
    "paused until resumed": WeekStatus(enrolled=True, week="2026-W48", paused_until=PAUSED_UNTIL_RESUMED),
    "waiting for this week's pulse": WeekStatus(
        enrolled=True, week="2026-W48", expected_at=dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC), tz="Europe/Berlin"
    ),
    "pulse not yet scheduled": WeekStatus(enrolled=True, week="2026-W48"),
}
SENT_STATES = {"pulse in the inbox": "fresh", "partly answered": "partly answered", "answered": "complete",
               "skipped": "skipped", "closed": "closed"}


@pytest.mark.parametrize("with_hidden_work", [False, True], ids=["", "with hidden work"])
@pytest.mark.parametrize("state", [*HOME_STATES, *SENT_STATES])
def test_the_home_tab_fits_block_kit_in_every_state(state: str, with_hidden_work: bool) -> None:
    if state in HOME_STATES:
        status = HOME_STATES[state]
    else:
        status = WeekStatus(enrolled=True, week="2026-W48", pulse=pulse_in_state(SENT_STATES[state], WEEKS[0]), sent=True)
    view = home_view(status, min_group=MIN_GROUP, hidden_work=hidden_work() if with_hidden_work else None)
    assert_valid_blocks(view, surface="home")


def test_the_home_tab_tells_each_state_apart() -> None:
    """Each state reads differently to the person, so none of them was checked by accident as another."""
    lines = []
    for state in [*HOME_STATES, *SENT_STATES]:
        status = HOME_STATES.get(state) or WeekStatus(
            enrolled=True, week="2026-W48", pulse=pulse_in_state(SENT_STATES[state], WEEKS[0]), sent=True
        )
        lines.append(home_view(status, min_group=MIN_GROUP)["blocks"][1]["text"]["text"])
    assert len(set(lines)) == len(lines)


# ---------------------------------------------------------------- replies


@pytest.mark.parametrize(
    "problem",
    [None, "I couldn't read “soon”. Try `/pulse pause 2w`.", "Pause for 1 to 26 weeks, e.g. `/pulse pause 2w`.", "w" * 2000],
)
def test_the_help_reply_fits_block_kit(problem: str | None) -> None:
    assert_valid_blocks(help_message(min_group=MIN_GROUP, problem=problem), surface="message")


@pytest.mark.parametrize(
    "problem",
    [
        "The pulse for 2026-W48 has closed; answers are no longer recorded.",
        f"Keep the comment under {COMMENT_MAX_CHARS} characters (it has 1204).",
        "You are not enrolled in the weekly pulse.",
        "p" * 2500,
    ],
)
def test_a_problem_reply_fits_block_kit(problem: str) -> None:
    assert_valid_blocks(problem_message(problem), surface="message")


# ---------------------------------------------------------------- nobody gets pinged


MENTIONS_BANK = """\
questions:
  core:
    - key: capability
      text: "Hey <!channel> and <@U123>: how confident are you using the AI tools?"
      kind: scale
      options:
        - {label: "1 · <!here>", value: 1}
        - {label: "2", value: 2}
        - {label: "3 · <@U123>", value: 3}
        - {label: "4", value: 4}
        - {label: "5", value: 5}
    - key: workload
      text: "Ask <!subteam^S0123|@council> or see <#C0123> and <https://evil.example|this link>"
      kind: scale
      options:
        - {label: "1", value: 1}
        - {label: "2", value: 2}
    - key: upkeep
      text: "Plain question, <!everyone>"
      kind: choice
      options:
        - {label: "No", value: 0}
        - {label: "Yes", value: 1}
    - key: comment
      text: "Anything for <!here> or <@U123>?"
      kind: text
"""


@pytest.fixture
def mentions_file(tmp_path: Path) -> Path:
    path = tmp_path / "behaviour.yml"
    path.write_text(MENTIONS_BANK, encoding="utf-8")
    return path


@pytest.mark.parametrize("state", STATES)
def test_question_texts_from_a_behaviour_file_cannot_ping_anyone(mentions_file: Path, state: str) -> None:
    pulse = pulse_in_state(state, WEEKS[0], load_behaviour(mentions_file).questions)
    message = {"text": pulse_text(pulse), "blocks": pulse_message(pulse, min_group=MIN_GROUP)}
    reminder = {"text": reminder_text(pulse), "blocks": reminder_message(pulse)}
    home = home_view(WeekStatus(enrolled=True, week=pulse.week, pulse=pulse, sent=True), min_group=MIN_GROUP)
    for payload in (message, reminder, home, comment_modal(pulse, min_group=5)):
        assert [found for text in mrkdwn_texts(payload) for found in pings(text)] == []
    if not pulse.skipped:  # the question still reads as written, only harmless
        rendered = "\n".join(mrkdwn_texts(message))
        assert "Hey &lt;!channel&gt; and &lt;@U123&gt;: how confident" in rendered
        assert "Anything for &lt;!here&gt; or &lt;@U123&gt;?" in rendered


def test_a_problem_echoing_what_someone_typed_cannot_ping_anyone() -> None:
    typed = "I couldn't read “<!channel> <@U123>”."
    for blocks in (problem_message(typed), help_message(min_group=MIN_GROUP, problem=typed)):
        assert [found for text in mrkdwn_texts(blocks) for found in pings(text)] == []


# ---------------------------------------------------------------- the checker bites


def section(text: str = "x", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(text: str = "OK", action_id: str = "ok", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, **extra}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def text_input(**extra: Any) -> dict[str, Any]:
    element = {"type": "plain_text_input", "action_id": "note", **extra}
    return {"type": "input", "block_id": "note", "label": {"type": "plain_text", "text": "Note"}, "element": element}


def modal(**extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "m",
        "title": {"type": "plain_text", "text": "Title"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [text_input()],
        **extra,
    }


def message(*blocks: dict[str, Any], text: str = "fallback") -> dict[str, Any]:
    return {"text": text, "blocks": list(blocks)}


BROKEN: dict[str, tuple[Any, str]] = {
    "51 blocks in a message": ([section()] * 51, "message"),
    "101 blocks in a modal": (modal(blocks=[section()] * 101), "modal"),
    "101 blocks on the home tab": ({"type": "home", "blocks": [section()] * 101}, "home"),
    "section text of 3001": ([section("x" * 3001)], "message"),
    "11 section fields": ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "message"),
    "header text of 151": ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "message"),
    "11 context elements": ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "message"),
    "26 buttons in one actions block": ([actions(*[button(action_id=f"b{i}") for i in range(26)])], "message"),
    "button text of 76": ([actions(button("b" * 76))], "message"),
    "button value of 2001": ([actions(button(value="v" * 2001))], "message"),
    "action_id of 256": ([actions(button(action_id="a" * 256))], "message"),
    "block_id of 256": ([section(block_id="b" * 256)], "message"),
    "an action_id twice in a block": ([actions(button(action_id="same"), button(action_id="same"))], "message"),
    "a block_id twice in a message": ([section(block_id="same"), section(block_id="same")], "message"),
    "an empty text": ([section(" ")], "message"),
    "an unknown block type": ([{"type": "sectoin", "text": {"type": "mrkdwn", "text": "x"}}], "message"),
    "a misspelt key": ([section(acessory=button())], "message"),
    "a message without fallback text": (message(section(), text=""), "message"),
    "fallback text of 40001": (message(section(), text="t" * 40_001), "message"),
    "modal title of 25": (modal(title={"type": "plain_text", "text": "t" * 25}), "modal"),
    "modal submit of 25": (modal(submit={"type": "plain_text", "text": "s" * 25}), "modal"),
    "modal close of 25": (modal(close={"type": "plain_text", "text": "c" * 25}), "modal"),
    "a modal with an input but no submit": ({k: v for k, v in modal().items() if k != "submit"}, "modal"),
    "private_metadata of 3001": (modal(private_metadata="m" * 3001), "modal"),
    "callback_id of 256": (modal(callback_id="c" * 256), "modal"),
    "plain_text_input max_length of 3001": (modal(blocks=[text_input(max_length=3001)]), "modal"),
    "a home view checked as a modal": ({"type": "home", "blocks": [section()]}, "modal"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_the_checker_rejects_a_payload_slack_would_refuse(case: str) -> None:
    payload, surface = BROKEN[case]
    with pytest.raises(AssertionError):
        assert_valid_blocks(payload, surface=surface)


AT_THE_LIMIT: dict[str, tuple[Any, str]] = {
    "50 blocks in a message": (message(*[section(block_id=f"s{i}") for i in range(50)]), "message"),
    "100 blocks in a modal": (modal(blocks=[text_input(), *[section()] * 99]), "modal"),
    "100 blocks on the home tab": ({"type": "home", "blocks": [section()] * 100}, "home"),
    "every text and id at its limit": (
        message(
            section("x" * 3000, block_id="b" * 255, accessory=button("b" * 75, action_id="a" * 255, value="v" * 2000)),
            {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
            actions(*[button(action_id=f"b{i}") for i in range(25)]),
            text="t" * 40_000,
        ),
        "message",
    ),
    "a modal at its limits": (
        modal(
            title={"type": "plain_text", "text": "t" * 24},
            submit={"type": "plain_text", "text": "s" * 24},
            close={"type": "plain_text", "text": "c" * 24},
            private_metadata="m" * 3000,
            callback_id="c" * 255,
            blocks=[text_input(max_length=3000, multiline=True)],
        ),
        "modal",
    ),
}


@pytest.mark.parametrize("case", AT_THE_LIMIT)
def test_the_checker_accepts_a_payload_right_at_the_limits(case: str) -> None:
    payload, surface = AT_THE_LIMIT[case]
    assert_valid_blocks(payload, surface=surface)


# ---------------------------------------------------------------- what the app really sent


def sent_payloads(slack: FakeSlack) -> list[dict[str, Any]]:
    return [call.params for method in ("chat.postMessage", "chat.update") for call in slack.calls_to(method)]


def test_every_pulse_reminder_and_update_the_app_sent_fits_block_kit(
    settings: Settings, db: Database, slack: FakeSlack
) -> None:
    services = make_services(settings, db)
    for user_id in ("USILENT", "UANSWERS", "USKIPS"):
        factories.person(db, user_id, tz="Europe/Berlin")
    for week in WEEKS[:3]:
        tuesday = dt.datetime.combine(week.day(2), dt.time(9, 0), tzinfo=dt.UTC)  # 10:00 in Berlin
        with freeze_time(tuesday):
            assert run_pulse_job(db, services.messenger, services.behaviour).sent == 3
        with db.session() as session:
            round_id = session.scalars(select(PulseRound.id).where(PulseRound.week == str(week))).one()
        with freeze_time(tuesday + dt.timedelta(hours=1)):
            pulse = record_answer(db, services.key, "UANSWERS", round_id, "capability", 4)
            pulse = record_comment(db, services.key, "UANSWERS", round_id, "é" * COMMENT_MAX_CHARS)
            ref = delivery_message(db, "UANSWERS", round_id)
            assert ref is not None
            services.messenger.update_pulse(ref, pulse)
            skipped = skip_week(db, services.key, "USKIPS", round_id)
            ref = delivery_message(db, "USKIPS", round_id)
            assert ref is not None
            services.messenger.update_pulse(ref, skipped)
        with freeze_time(tuesday + dt.timedelta(hours=48)):
            assert run_reminder_job(db, services.messenger, services.behaviour, services.key).sent == 1
    payloads = sent_payloads(slack)
    assert len(payloads) == 3 * (3 + 1 + 2)  # per week: three pulses, one reminder, two updates
    for payload in payloads:
        assert_valid_blocks(payload, surface="message")


def test_a_pulse_sent_with_mentions_in_its_questions_pings_nobody(
    database_url: str, db: Database, slack: FakeSlack, mentions_file: Path
) -> None:
    settings = make_settings(database_url=database_url, slack_api_url=slack.url, pulse_config=mentions_file)
    services = make_services(settings, db)
    factories.person(db, "UONE", tz="Europe/Berlin")
    with freeze_time("2026-11-24 09:00"):
        run_pulse_job(db, services.messenger, services.behaviour)
    with freeze_time("2026-11-26 09:00"):
        run_reminder_job(db, services.messenger, services.behaviour, services.key)
    payloads = sent_payloads(slack)
    assert len(payloads) == 2  # the pulse and its reminder
    for payload in payloads:
        assert_valid_blocks(payload, surface="message")
        assert [found for text in mrkdwn_texts(payload) for found in pings(text)] == []
    assert "Hey &lt;!channel&gt; and &lt;@U123&gt;" in str(payloads[0]["blocks"])
