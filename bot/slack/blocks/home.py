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

from bot.i18n import ENGLISH, N_, Translator
from bot.labour.credit import SharedByMe
from bot.labour.categories import category_name
from bot.labour.durations import format_minutes
from bot.labour.views import HiddenWorkSummary
from bot.models import PAUSED_UNTIL_RESUMED
from bot.slack.blocks.common import escape, slack_date
from bot.slack.blocks.credit import shared_home_blocks
from bot.slack.ids import Action
from bot.surveys.views import WeekStatus

ABOUT = N_(
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
    t: Translator = ENGLISH,
) -> dict[str, Any]:
    blocks: list[Block] = [HeaderBlock(text="Rollout Pulse")]
    if not status.enrolled:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=t.gettext("You are not enrolled in the weekly pulse yet. Ask your admin to add you to the roster.")
                )
            )
        )
    else:
        heading = t.gettext("*This week ({week})*", week=status.week)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"{heading}\n{_pulse_line(status, t)}")))
        blocks.append(_pause_controls(status, pause_weeks, t))
    if hidden_work is not None:
        work = _hidden_work(hidden_work, t)
        if shared is not None:
            work[-1:-1] = shared_home_blocks(shared, t)  # before the button to log more
        blocks.extend(work)
    blocks.append(DividerBlock())
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t.gettext(ABOUT, min_group=min_group))]))
    return View(type="home", blocks=blocks).to_dict()


def _pulse_line(status: WeekStatus, t: Translator) -> str:
    if status.paused_until is not None:
        if status.paused_until == PAUSED_UNTIL_RESUMED:
            return t.gettext(":double_vertical_bar: Your pulse is paused until you resume it.")
        day = t.date(status.paused_until, english="EEE dd MMM", skeleton="MMMd")
        return t.gettext(":double_vertical_bar: Your pulse is paused through {date}.", date=day)
    pulse = status.pulse
    if pulse is None:
        if status.days_off:
            return t.gettext(":palm_tree: No pulse for you this week: the rest of your week is days off.")
        if status.expected_at is not None:
            return t.gettext(":hourglass_flowing_sand: Your pulse arrives {date}.", date=slack_date(status.expected_at, t))
        return t.gettext(":hourglass_flowing_sand: Your pulse has not been sent yet.")
    if pulse.closed:
        return t.gettext(":lock: This week's pulse has closed.")
    if pulse.skipped:
        return t.gettext(":fast_forward: You skipped this week's pulse.")
    total = len(pulse.closed_questions)
    if pulse.complete:
        return t.ngettext(
            ":white_check_mark: Answered, all {n} questions. You can change answers until {date}.",
            ":white_check_mark: Answered, all {n} questions. You can change answers until {date}.",
            total,
            date=slack_date(pulse.closes_at, t),
        )
    if pulse.answered:
        return t.ngettext(
            ":pencil2: {answered} of {n} answered. Your pulse is in your messages with this app.",
            ":pencil2: {answered} of {n} answered. Your pulse is in your messages with this app.",
            total,
            answered=t.integer(pulse.answered),
        )
    return t.gettext(":envelope: Your pulse is waiting in your messages with this app. It takes about a minute.")


def _pause_controls(status: WeekStatus, weeks: int, t: Translator) -> Block:
    if status.paused_until is not None:
        button = ButtonElement(text=t.gettext("Resume my pulse"), action_id=Action.HOME_RESUME, style="primary")
        return ActionsBlock(elements=[button])
    label = t.ngettext("Pause for a week", "Pause for {n} weeks", weeks)
    return ActionsBlock(elements=[ButtonElement(text=label, action_id=Action.HOME_PAUSE, value=str(weeks))])


def _hidden_work(summary: HiddenWorkSummary, t: Translator) -> list[Block]:
    """This week's hidden AI work by category, the weeks before, and the way to log more."""
    if summary.by_category:
        lines = [
            t.gettext("This week ({week}): *{duration}*", week=summary.week, duration=format_minutes(summary.week_minutes, t))
        ]
        lines += [
            f"• {escape(category_name(item.category, t))}: {format_minutes(item.minutes, t)}" for item in summary.by_category
        ]
    else:
        lines = [
            t.gettext(
                "Nothing logged this week ({week}). Checking, prompting and fixing what AI "
                "produces is work too: log it so it counts.",
                week=summary.week,
            )
        ]
    blocks: list[Block] = [
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text=t.gettext("*Hidden AI work*") + "\n" + "\n".join(lines))),
    ]
    if summary.previous_weeks:
        earlier = " · ".join(
            f"{week.week}: {format_minutes(week.minutes, t) if week.minutes else '—'}" for week in summary.previous_weeks
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=t.gettext("Weeks before: {weeks}", weeks=earlier))]))
    blocks.append(
        ActionsBlock(
            elements=[ButtonElement(text=t.gettext("Log hidden work"), action_id=Action.HOME_LOG_WORK, style="primary")]
        )
    )
    return blocks
