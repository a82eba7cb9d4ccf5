"""Ephemeral replies to `/pulse`: help, confirmations and errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.i18n import ENGLISH, NATIVE_NAMES, N_, SHIPPED, Translator
from bot.labour.categories import category_choices
from bot.models import PAUSED_UNTIL_RESUMED
from bot.slack.blocks.common import escape, render

HELP = N_("""*Rollout Pulse* — a one-minute weekly pulse on how AI is working for you.
• `/pulse help` — this message
• `/pulse pause 2w` — no pulse for 2 weeks (1–26); `/pulse pause` — until you resume
• `/pulse resume` — start receiving the pulse again
• `/pulse log 45m review checked the forecast` — log hidden AI work in one line (durations like \
`45m`, `1h30m`, `1.5h`; categories {categories}); `/pulse log` alone opens a form
• `/pulse summary [team] [4w]` — for managers and the council: a team's last weeks
• `/pulse mydata` — everything stored about you; `/pulse forget` — delete it
• `/pulse language de` — Rollout Pulse in another language; `/pulse language` — yours and the others
Your pulse arrives as a direct message from this app. Answers are anonymous: stored under a \
pseudonym and only shown for groups of at least {min_group} people.""")


def help_message(*, min_group: int, problem: str | None = None, t: Translator = ENGLISH) -> list[dict[str, Any]]:
    blocks = []
    if problem:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":warning: {escape(problem)}")))
    text = t.gettext(HELP, min_group=min_group, categories=escape(category_choices(t)))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    return render(blocks)


def help_text(t: Translator = ENGLISH) -> str:
    return t.gettext("Rollout Pulse help")


def paused_message(until: dt.date, t: Translator = ENGLISH) -> str:
    if until == PAUSED_UNTIL_RESUMED:
        return t.gettext(":double_vertical_bar: Paused. You won't get the weekly pulse until you `/pulse resume`.")
    day = t.date(until, english="EEEE dd MMMM", skeleton="MMMMd")
    return t.gettext(":double_vertical_bar: Paused through {date}. `/pulse resume` starts it again sooner.", date=day)


def resumed_message(was_paused: bool, t: Translator = ENGLISH) -> str:
    if was_paused:
        return t.gettext(":arrow_forward: Resumed. Your next pulse arrives on the usual day.")
    return t.gettext("Your pulse was not paused; nothing changed.")


def problem_text(text: str) -> str:
    """A problem as a message's fallback text, which Slack formats as mrkdwn too."""
    return escape(text)


def problem_message(text: str) -> list[dict[str, Any]]:
    return render([ContextBlock(elements=[MarkdownTextObject(text=f":warning: {escape(text)}")])])


# ---------------------------------------------------------------- /pulse language


def _languages() -> str:
    return ", ".join(f"{NATIVE_NAMES[lang]} (`{lang}`)" for lang in SHIPPED)


def language_message(lang: str, source: str, t: Translator) -> str:
    """`/pulse language`: the language the person reads, why, and the others (`t` is theirs).

    `source` says where it comes from: `chosen`, `slack` (their Slack locale) or `organisation`."""
    why = {
        "chosen": t.gettext("you chose it"),
        "slack": t.gettext("your Slack language"),
        "organisation": t.gettext("your organisation's language"),
    }[source]
    return t.gettext(
        ":globe_with_meridians: Rollout Pulse writes to you in {language} ({why}). Available: {languages}. "
        "Change it with `/pulse language de`; `/pulse language auto` follows your Slack language again.",
        language=NATIVE_NAMES[lang],
        why=why,
        languages=_languages(),
    )


def language_set_message(lang: str, following_slack: bool, t: Translator) -> str:
    """The confirmation, already in the new language (`t`)."""
    if following_slack:
        return t.gettext(
            ":globe_with_meridians: Rollout Pulse follows your Slack language again: from now on it writes "
            "to you in {language}.",
            language=NATIVE_NAMES[lang],
        )
    return t.gettext(
        ":globe_with_meridians: Done: from now on Rollout Pulse writes to you in {language}, "
        "starting with your next pulse. Your answers count exactly as before.",
        language=NATIVE_NAMES[lang],
    )


def unknown_language_message(code: str, t: Translator) -> str:
    return t.gettext(
        "I don't know the language “{code}”. Available: {languages}. For example: `/pulse language fr`.",
        code=code[:20],
        languages=_languages(),
    )
