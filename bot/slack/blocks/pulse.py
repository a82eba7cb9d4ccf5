"""The pulse DM, its reminder and the comment modal: pure functions of a PulseView."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.i18n import ENGLISH, N_, Translator
from bot.models import COMMENT_MAX_CHARS
from bot.settings import Question
from bot.slack.blocks.common import escape, parse_id, render, slack_date
from bot.slack.ids import COMMENT_INPUT_ACTION, Action, Block as BlockId, Callback
from bot.surveys.views import PulseView

COMMENT_READERS = N_(
    "The performance council reads comments word for word, in its weekly digest, with no name or "
    "team, and only for a week in which at least {min_group} people answered. Your wording can "
    "still give you away."
)

PRIVACY_NOTE = N_(
    ":lock: Anonymous: answers are stored under a pseudonym, never your name, and only shown "
    "for groups of at least {min_group} people."
)


def answer_value(round_id: int, question_key: str, option_index: int) -> str:
    return f"{round_id}:{question_key}:{option_index}"


def parse_answer_value(value: object) -> tuple[int, str, int]:
    """Round, question and option from an answer button; ValueError if the app did not write it."""
    round_id, question_key, option_index = value.split(":") if isinstance(value, str) else ()  # ValueError unless three
    if not (option_index.isascii() and option_index.isdigit() and len(option_index) <= 2):
        raise ValueError("not an option")
    return parse_id(round_id), question_key, int(option_index)


def pulse_text(pulse: PulseView, t: Translator = ENGLISH) -> str:
    """The notification and screen-reader text of the pulse message."""
    if pulse.skipped:
        return t.gettext("You skipped this week's pulse ({week}).", week=pulse.week)
    return t.ngettext(
        "Your weekly pulse for {week}: {n} quick question, about a minute.",
        "Your weekly pulse for {week}: {n} quick questions, about a minute.",
        len(pulse.closed_questions),
        week=pulse.week,
    )


def pulse_message(pulse: PulseView, *, min_group: int, t: Translator = ENGLISH) -> list[dict[str, Any]]:
    if pulse.skipped:
        return render(_skipped(pulse, t))
    heading = SectionBlock(
        text=MarkdownTextObject(
            text=t.gettext("*Your weekly pulse · {week}*", week=pulse.week)
            + "\n"
            + t.ngettext(
                "{n} quick question about AI in your work this week. About a minute.",
                "{n} quick questions about AI in your work this week. About a minute.",
                len(pulse.closed_questions),
            )
        )
    )
    blocks = render([heading])
    for number, question in enumerate(pulse.closed_questions, start=1):
        chosen = pulse.chosen.get(question.key)
        blocks.extend(copy.deepcopy(_question(pulse.round_id, number, question, chosen, pulse.closed, t.lang)))
    rest: list[Block] = []
    if (comment := pulse.comment_question) is not None:
        rest.append(_comment(pulse, comment, min_group, t))
    rest.append(_footer(pulse, t))
    rest.append(ContextBlock(elements=[MarkdownTextObject(text=t.gettext(PRIVACY_NOTE, min_group=min_group))]))
    return blocks + render(rest)


# Most of a pulse message is its questions, and everyone answering a round sees the same few
# versions of each (nothing chosen, or one of its options), so each version is built and
# checked once; the message is rebuilt on every click, and building it whole took longer than
# recording the answer. Callers get copies, so the cached blocks never change.
@lru_cache(maxsize=2048)
def _question(
    round_id: int, number: int, question: Question, chosen: int | None, closed: bool, lang: str = "en"
) -> list[dict[str, Any]]:
    mark = " :white_check_mark:" if chosen is not None else ""
    buttons = [
        ButtonElement(
            text=option.label_in(lang),
            action_id=f"{Action.PULSE_ANSWER}:{question.key}:{index}",
            value=answer_value(round_id, question.key, index),
            style="primary" if index == chosen else None,
        )
        for index, option in enumerate(question.options)
    ]
    section = SectionBlock(block_id=f"q:{question.key}", text=MarkdownTextObject(text=f"*{number}.* {escape(question.text_in(lang))}{mark}"))
    if closed:
        return render([section])
    return render([section, ActionsBlock(block_id=f"a:{question.key}", elements=buttons)])


def _comment(pulse: PulseView, question: Question, min_group: int, t: Translator) -> Block:
    saved = "\n" + t.gettext("_Your comment is saved._") if pulse.comment else ""
    saved += "\n" + t.gettext(COMMENT_READERS, min_group=min_group)
    button = None
    if not pulse.closed:
        button = ButtonElement(
            text=t.gettext("Edit comment") if pulse.comment else t.gettext("Add a comment"),
            action_id=Action.PULSE_COMMENT,
            value=str(pulse.round_id),
        )
    text = f"{escape(question.text_in(t.lang))}{saved}"
    return SectionBlock(block_id="comment", text=MarkdownTextObject(text=text), accessory=button)


def _footer(pulse: PulseView, t: Translator) -> Block:
    total = len(pulse.closed_questions)
    closes = slack_date(pulse.closes_at, t)
    if pulse.closed:
        status = t.gettext("This pulse closed {date}. Thank you.", date=closes)
    elif pulse.complete:
        status = t.ngettext(
            ":tada: All {n} answered, thank you. You can change any answer until {date}.",
            ":tada: All {n} answered, thank you. You can change any answer until {date}.",
            total,
            date=closes,
        )
    else:
        status = t.ngettext(
            "{answered} of {n} answered. You can change answers until {date}.",
            "{answered} of {n} answered. You can change answers until {date}.",
            total,
            answered=t.integer(pulse.answered),
            date=closes,
        )
    if pulse.closed or pulse.answered:
        return ContextBlock(elements=[MarkdownTextObject(text=status)])
    return SectionBlock(
        block_id="footer",
        text=MarkdownTextObject(text=status),
        accessory=ButtonElement(text=t.gettext("Skip this week"), action_id=Action.PULSE_SKIP, value=str(pulse.round_id)),
    )


def _skipped(pulse: PulseView, t: Translator) -> list[Block]:
    text = t.gettext("*Weekly pulse · {week}*", week=pulse.week) + "\n" + t.gettext(
        "You skipped this week. Thanks for letting us know."
    )
    if pulse.closed:
        return [SectionBlock(text=MarkdownTextObject(text=text))]
    return [
        SectionBlock(
            block_id="skipped",
            text=MarkdownTextObject(text=text),
            accessory=ButtonElement(
                text=t.gettext("Answer after all"), action_id=Action.PULSE_UNSKIP, value=str(pulse.round_id)
            ),
        )
    ]


def reminder_message(pulse: PulseView, t: Translator = ENGLISH) -> list[dict[str, Any]]:
    return render(
        [
            SectionBlock(
                text=MarkdownTextObject(
                    text=t.gettext(
                        "*A gentle reminder:* your pulse for {week} is open until {date}. "
                        "It takes about a minute: scroll up to answer it.",
                        week=pulse.week,
                        date=slack_date(pulse.closes_at, t),
                    )
                ),
                accessory=ButtonElement(text=t.gettext("Skip this week"), action_id=Action.PULSE_SKIP, value=str(pulse.round_id)),
            )
        ]
    )


def reminder_text(pulse: PulseView, t: Translator = ENGLISH) -> str:
    return t.gettext("A gentle reminder: your pulse for {week} is still open.", week=pulse.week)


def comment_modal(pulse: PulseView, *, min_group: int, t: Translator = ENGLISH) -> dict[str, Any]:
    question = pulse.comment_question
    label = question.text_in(t.lang) if question is not None else t.gettext("Comment")
    view = View(
        type="modal",
        callback_id=Callback.PULSE_COMMENT,
        private_metadata=str(pulse.round_id),
        title=PlainTextObject(text=t.gettext("Your comment")),
        submit=PlainTextObject(text=t.gettext("Save")),
        close=PlainTextObject(text=t.gettext("Cancel")),
        blocks=[
            InputBlock(
                block_id=BlockId.COMMENT_INPUT,
                label=PlainTextObject(text=label[:2000]),
                optional=True,
                element=PlainTextInputElement(
                    action_id=COMMENT_INPUT_ACTION,
                    multiline=True,
                    max_length=COMMENT_MAX_CHARS,
                    initial_value=pulse.comment or None,
                ),
                hint=PlainTextObject(text=t.gettext(COMMENT_READERS, min_group=min_group)),
            )
        ],
    )
    return view.to_dict()
