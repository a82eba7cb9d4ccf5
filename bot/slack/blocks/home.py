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

from bot.labour.credit import SharedByMe
from bot.labour.durations import format_minutes
from bot.labour.views import HiddenWorkSummary
from bot.models import PAUSED_UNTIL_RESUMED
from bot.slack.blocks.common import escape, slack_date
from bot.slack.blocks.credit import shared_home_blocks
from bot.slack.ids import Action
from bot.surveys.views import WeekStatus

ABOUT = (
    "Rollout Pulse asks a one-minute question set each week about how the AI rollout is going "
    "for you. Your answers are stored under a pseudonym and only ever shown in groups of at "
    "least {min_group} people. Type `/pulse help` for everything you can do."
)


def home_view(
    status: WeekStatus,
    *,
    min_group: int,
    pause_weeks: int = 2,
    hidden_work: HiddenWorkSummary | None = None,
    shared: SharedByMe | None = None,
) -> dict[str, Any]:
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
        blocks.append(_pause_controls(status, pause_weeks))
    if hidden_work is not None:
        work = _hidden_work(hidden_work)
        if shared is not None:
            work[-1:-1] = shared_home_blocks(shared)  # before the button to log more
        blocks.extend(work)
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
        if status.days_off:
            return ":palm_tree: No pulse for you this week: the rest of your week is days off."
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


def _pause_controls(status: WeekStatus, weeks: int) -> Block:
    if status.paused_until is not None:
        return ActionsBlock(elements=[ButtonElement(text="Resume my pulse", action_id=Action.HOME_RESUME, style="primary")])
    label = "Pause for a week" if weeks == 1 else f"Pause for {weeks} weeks"
    return ActionsBlock(elements=[ButtonElement(text=label, action_id=Action.HOME_PAUSE, value=str(weeks))])


def _hidden_work(summary: HiddenWorkSummary) -> list[Block]:
    """This week's hidden AI work by category, the weeks before, and the way to log more."""
    if summary.by_category:
        lines = [f"This week ({summary.week}): *{format_minutes(summary.week_minutes)}*"]
        lines += [f"• {escape(item.name)}: {format_minutes(item.minutes)}" for item in summary.by_category]
    else:
        lines = [
            (
                f"Nothing logged this week ({summary.week}). Checking, prompting and fixing what AI "
                "produces is work too: log it so it counts."
            )
        ]
    blocks: list[Block] = [
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text="*Hidden AI work*\n" + "\n".join(lines))),
    ]
    if summary.previous_weeks:
        earlier = " · ".join(
            f"{week.week}: {format_minutes(week.minutes) if week.minutes else '—'}" for week in summary.previous_weeks
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Weeks before: {earlier}")]))
    blocks.append(
        ActionsBlock(elements=[ButtonElement(text="Log hidden work", action_id=Action.HOME_LOG_WORK, style="primary")])
    )
    return blocks
