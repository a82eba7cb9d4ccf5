"""Every pulse message, reminder, modal, home view and reply we build stays within Block Kit's limits."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.models import PAUSED_UNTIL_RESUMED
from bot.settings import load_behaviour
from bot.slack.blocks.home import home_view
from bot.slack.blocks.pulse import comment_modal, pulse_message, pulse_text, reminder_message, reminder_text
from bot.slack.blocks.replies import help_message, problem_message
from bot.surveys.bank import questions_for_week
from bot.surveys.views import PulseView, WeekStatus
from bot.weeks import IsoWeek
from tests.blockkit import assert_valid_blocks, assert_valid_message, assert_valid_view

CLOSES = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone.utc)
QUESTIONS = questions_for_week(load_behaviour(None).questions, IsoWeek(2026, 48))
STATES = {
    "fresh": PulseView(1, "2026-W48", CLOSES, QUESTIONS),
    "partly answered": PulseView(1, "2026-W48", CLOSES, QUESTIONS, chosen={"capability": 4, "upkeep": 5}),
    "complete": PulseView(1, "2026-W48", CLOSES, QUESTIONS, chosen={q.key: 0 for q in QUESTIONS if q.kind != "text"}),
    "with a long comment": PulseView(1, "2026-W48", CLOSES, QUESTIONS, comment="x" * 1000),
    "skipped": PulseView(1, "2026-W48", CLOSES, QUESTIONS, skipped=True),
    "closed": PulseView(1, "2026-W48", CLOSES, QUESTIONS, chosen={"capability": 1}, closed=True),
}


@pytest.mark.parametrize("state", STATES)
def test_the_pulse_message_fits_block_kit_in_every_state(state: str) -> None:
    pulse = STATES[state]
    assert_valid_message(pulse_text(pulse), pulse_message(pulse, min_group=5))
    assert_valid_message(reminder_text(pulse), reminder_message(pulse))
    assert_valid_view(comment_modal(pulse))


@pytest.mark.parametrize(
    "status",
    [
        WeekStatus(enrolled=False, week="2026-W48"),
        WeekStatus(enrolled=True, week="2026-W48", paused_until=dt.date(2026, 12, 3)),
        WeekStatus(enrolled=True, week="2026-W48", paused_until=PAUSED_UNTIL_RESUMED),
        WeekStatus(enrolled=True, week="2026-W48", expected_at=CLOSES),
        WeekStatus(enrolled=True, week="2026-W48", pulse=STATES["partly answered"], sent=True),
        WeekStatus(enrolled=True, week="2026-W48", pulse=STATES["complete"], sent=True),
        WeekStatus(enrolled=True, week="2026-W48", pulse=STATES["skipped"], sent=True),
    ],
)
def test_the_home_tab_fits_block_kit_in_every_state(status: WeekStatus) -> None:
    assert_valid_view(home_view(status, min_group=5))


def test_help_and_problem_replies_fit_block_kit() -> None:
    assert_valid_blocks(help_message(min_group=5, problem="I couldn't read “soon”."))
    assert_valid_blocks(problem_message("x" * 2500))


def test_text_from_a_behaviour_file_cannot_ping_anyone() -> None:
    question = QUESTIONS[0].model_copy(update={"text": "Hello <!channel> and <@U123>, how confident are you?"})
    blocks = pulse_message(PulseView(1, "2026-W48", CLOSES, [question, *QUESTIONS[1:]]), min_group=5)
    rendered = json.dumps(blocks)
    assert "<!channel>" not in rendered and "<@U123>" not in rendered
    assert "&lt;!channel&gt;" in rendered


def test_the_checker_bites_on_an_oversized_message() -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    with pytest.raises(AssertionError):
        assert_valid_blocks([section] * 51)
    with pytest.raises(Exception):  # noqa: B017 — slack_sdk's own error type for a broken limit
        assert_valid_blocks([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
