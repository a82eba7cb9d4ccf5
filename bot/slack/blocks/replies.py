"""Ephemeral replies to `/pulse`: help, confirmations and errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.labour.categories import category_choices
from bot.models import PAUSED_UNTIL_RESUMED
from bot.slack.blocks.common import escape, render

HELP = """*Rollout Pulse* — a one-minute weekly pulse on how AI is working for you.
• `/pulse help` — this message
• `/pulse pause 2w` — no pulse for 2 weeks (1–26); `/pulse pause` — until you resume
• `/pulse resume` — start receiving the pulse again
• `/pulse log 45m review checked the forecast` — log hidden AI work in one line (durations like \
`45m`, `1h30m`, `1.5h`; categories {categories}); `/pulse log` alone opens a form
• `/pulse summary [team] [4w]` — for managers and the council: a team's last weeks
• `/pulse mydata` — everything stored about you; `/pulse forget` — delete it
Your pulse arrives as a direct message from this app. Answers are anonymous: stored under a \
pseudonym and only shown for groups of at least {min_group} people."""


def help_message(*, min_group: int, problem: str | None = None) -> list[dict[str, Any]]:
    blocks = []
    if problem:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":warning: {escape(problem)}")))
    text = HELP.format(min_group=min_group, categories=escape(category_choices()))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    return render(blocks)


def paused_message(until: dt.date) -> str:
    if until == PAUSED_UNTIL_RESUMED:
        return ":double_vertical_bar: Paused. You won't get the weekly pulse until you `/pulse resume`."
    return f":double_vertical_bar: Paused through {until:%A %d %B}. `/pulse resume` starts it again sooner."


def resumed_message(was_paused: bool) -> str:
    if was_paused:
        return ":arrow_forward: Resumed. Your next pulse arrives on the usual day."
    return "Your pulse was not paused; nothing changed."


def problem_text(text: str) -> str:
    """A problem as a message's fallback text, which Slack formats as mrkdwn too."""
    return escape(text)


def problem_message(text: str) -> list[dict[str, Any]]:
    return render([ContextBlock(elements=[MarkdownTextObject(text=f":warning: {escape(text)}")])])
