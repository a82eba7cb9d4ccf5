"""The hidden-work modal and its confirmations: pure functions of plain values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.i18n import ENGLISH, N_, Translator
from bot.labour.categories import CATEGORY_NAMES, category_name
from bot.labour.durations import format_minutes
from bot.labour.errors import InvalidReport
from bot.labour.service import TOOL_MAX_CHARS
from bot.labour.views import LoggedWork
from bot.models import NOTE_MAX_CHARS, REPORT_MAX_MINUTES
from bot.slack.blocks.common import escape, render
from bot.slack.ids import Action, Callback
from bot.slack.ids import Block as BlockId

SHARE_LABEL = N_("Show this to my manager so the effort gets credit")
_SHARE_VALUE = "share"
_FROM_HOME = "home"  # private_metadata: the form was opened from App Home, so refresh it after
_DURATION_MAX_CHARS = 30  # "1 h 30 min" fits many times over; a wall of text is not a duration

# Which block shows a problem with which field of the report.
_FIELD_BLOCKS = {
    "category": BlockId.LOG_CATEGORY,
    "duration": BlockId.LOG_DURATION,
    "tool": BlockId.LOG_TOOL,
    "note": BlockId.LOG_NOTE,
}


def log_modal(
    *, min_group: int, note: str | None = None, from_home: bool = False, t: Translator = ENGLISH
) -> dict[str, Any]:
    """The form behind `/pulse log`, the shortcuts and the App Home button; `note` pre-fills the note."""
    if note is not None and len(note) > NOTE_MAX_CHARS:
        note = None  # a pre-fill the person could not submit unchanged is worse than none
    view = View(
        type="modal",
        callback_id=Callback.LOG_WORK_MODAL,
        private_metadata=_FROM_HOME if from_home else "",
        title=PlainTextObject(text=t.gettext("Log hidden AI work")),
        submit=PlainTextObject(text=t.gettext("Log it")),
        close=PlainTextObject(text=t.gettext("Cancel")),
        blocks=[
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=t.gettext("Checking, prompting and fixing what AI produces is work. Log it so it counts.")
                    )
                ]
            ),
            _category_input(t),
            _duration_input(t),
            _tool_input(t),
            _note_input(note, t),
            _share_input(min_group, t),
        ],
    )
    return view.to_dict()


def _category_input(t: Translator) -> Block:
    return InputBlock(
        block_id=BlockId.LOG_CATEGORY,
        label=PlainTextObject(text=t.gettext("What kind of work?")),
        element=StaticSelectElement(
            action_id=Action.LOG_CATEGORY,
            placeholder=PlainTextObject(text=t.gettext("Choose a category")),
            options=[Option(value=key, text=category_name(key, t)) for key in CATEGORY_NAMES],
        ),
    )


def _duration_input(t: Translator) -> Block:
    return InputBlock(
        block_id=BlockId.LOG_DURATION,
        label=PlainTextObject(text=t.gettext("How long did it take?")),
        element=PlainTextInputElement(
            action_id=Action.LOG_DURATION,
            placeholder=PlainTextObject(text=t.gettext("45m or 1h30m")),
            max_length=_DURATION_MAX_CHARS,
        ),
        hint=PlainTextObject(
            text=t.gettext("From 1 minute to {limit} in one report.", limit=format_minutes(REPORT_MAX_MINUTES, t))
        ),
    )


def _tool_input(t: Translator) -> Block:
    return InputBlock(
        block_id=BlockId.LOG_TOOL,
        label=PlainTextObject(text=t.gettext("Which AI tool?")),
        optional=True,
        element=PlainTextInputElement(
            action_id=Action.LOG_TOOL,
            placeholder=PlainTextObject(text=t.gettext("e.g. the forecasting assistant")),
            max_length=TOOL_MAX_CHARS,
        ),
    )


def _note_input(note: str | None, t: Translator) -> Block:
    return InputBlock(
        block_id=BlockId.LOG_NOTE,
        label=PlainTextObject(text=t.gettext("Note")),
        optional=True,
        element=PlainTextInputElement(
            action_id=Action.LOG_NOTE,
            multiline=True,
            max_length=NOTE_MAX_CHARS,
            initial_value=note or None,
            placeholder=PlainTextObject(text=t.gettext("What did you have to do?")),
        ),
        hint=PlainTextObject(text=t.gettext("Please leave out names and customer details.")),
    )


def _share_input(min_group: int, t: Translator) -> Block:
    return InputBlock(
        block_id=BlockId.LOG_SHARE,
        label=PlainTextObject(text=t.gettext("Credit")),
        optional=True,
        element=CheckboxesElement(
            action_id=Action.LOG_SHARE,
            options=[
                Option(
                    value=_SHARE_VALUE,
                    text=t.gettext(SHARE_LABEL),
                    description=t.gettext("Otherwise it counts only in figures for {min_group}+ people.", min_group=min_group),
                )
            ],
        ),
    )


def opened_from_home(private_metadata: str | None) -> bool:
    return private_metadata == _FROM_HOME


def form_errors(problems: Iterable[InvalidReport], t: Translator = ENGLISH) -> dict[str, str]:
    """`response_action: errors` for the modal: the first problem of each field, under its block."""
    errors: dict[str, str] = {}
    for problem in problems:
        errors.setdefault(_FIELD_BLOCKS.get(problem.field, BlockId.LOG_CATEGORY), problem.in_language(t))
    return errors


def form_unreadable(message: str) -> dict[str, str]:
    return {BlockId.LOG_CATEGORY: message}


# ---------------------------------------------------------------- confirmations


def logged_text(logged: LoggedWork, t: Translator = ENGLISH) -> str:
    """The notification and screen-reader text of a confirmation."""
    return t.gettext(
        "Logged {duration} of {category}. Your hidden AI work this week: {total}.",
        duration=format_minutes(logged.minutes, t),
        category=escape(category_name(logged.category, t)),
        total=format_minutes(logged.week_minutes, t),
    )


def logged_message(logged: LoggedWork, *, min_group: int, t: Translator = ENGLISH) -> list[dict[str, Any]]:
    lines = [
        t.gettext(
            ":white_check_mark: Logged *{duration}* of {category}.",
            duration=format_minutes(logged.minutes, t),
            category=escape(category_name(logged.category, t)),
        )
    ]
    if logged.tool:
        lines.append(t.gettext("Tool: {tool}", tool=escape(logged.tool)))
    lines.append(
        t.gettext(
            "Your hidden AI work this week ({week}): *{total}*.",
            week=logged.week,
            total=format_minutes(logged.week_minutes, t),
        )
    )
    if logged.shared_with_manager:
        privacy = t.gettext(
            ":bust_in_silhouette: Shown to your manager, so the effort gets credit: your team's managers see it "
            "by name, with its note, beside their `/pulse summary`. App Home lists what you shared."
        )
    else:
        privacy = t.gettext(
            ":lock: Anonymous: it counts only in figures for groups of at least {min_group} people.", min_group=min_group
        )
    return render(
        [
            SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
            ContextBlock(elements=[MarkdownTextObject(text=privacy)]),
        ]
    )
