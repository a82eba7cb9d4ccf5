"""The App Home tab: the person's week at a glance."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.models import PAUSED_UNTIL_RESUMED
from bot.slack.blocks.common import slack_date
from bot.slack.ids import Action
from bot.surveys.views import WeekStatus

ABOUT = (
    "Rollout Pulse asks a one-minute question set each week about how the AI rollout is going "
    "for you. Your answers are stored under a pseudonym and only ever shown in groups of at "
    "least {min_group} people. Type `/pulse help` for everything you can do."
)


def home_view(status: WeekStatus, *, min_group: int) -> dict[str, Any]:
    blocks: list[Block] = [HeaderBlock(text="Rollout Pulse")]
    if not status.enrolled:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="You are not enrolled in the weekly pulse yet. Ask your admin to add you to the roster."
                )
            )
        )
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*This week ({status.week})*\n{_pulse_line(status)}")))
        blocks.append(_pause_controls(status))
    blocks.append(DividerBlock())
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=ABOUT.format(min_group=min_group))]))
    return View(type="home", blocks=blocks).to_dict()


def _pulse_line(status: WeekStatus) -> str:
    if status.paused_until is not None:
        if status.paused_until == PAUSED_UNTIL_RESUMED:
            return ":double_vertical_bar: Your pulse is paused until you resume it."
        return f":double_vertical_bar: Your pulse is paused through {status.paused_until:%a %d %b}."
    pulse = status.pulse
    if pulse is None:
        if status.expected_at is not None:
            return f":hourglass_flowing_sand: Your pulse arrives {slack_date(status.expected_at)}."
        return ":hourglass_flowing_sand: Your pulse has not been sent yet."
    if pulse.closed:
        return ":lock: This week's pulse has closed."
    if pulse.skipped:
        return ":fast_forward: You skipped this week's pulse."
    total = len(pulse.closed_questions)
    if pulse.complete:
        return f":white_check_mark: Answered, all {total} questions. You can change answers until {slack_date(pulse.closes_at)}."
    if pulse.answered:
        return f":pencil2: {pulse.answered} of {total} answered. Your pulse is in your messages with this app."
    return ":envelope: Your pulse is waiting in your messages with this app. It takes about a minute."


def _pause_controls(status: WeekStatus) -> Block:
    if status.paused_until is not None:
        return ActionsBlock(elements=[ButtonElement(text="Resume my pulse", action_id=Action.HOME_RESUME, style="primary")])
    return ActionsBlock(elements=[ButtonElement(text="Pause for 2 weeks", action_id=Action.HOME_PAUSE, value="2")])
