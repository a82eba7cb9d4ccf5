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

from bot.models import COMMENT_MAX_CHARS
from bot.settings import Question
from bot.slack.blocks.common import escape, parse_id, render, slack_date
from bot.slack.ids import COMMENT_INPUT_ACTION, Action, Block as BlockId, Callback
from bot.surveys.views import PulseView

COMMENT_READERS = (
    "The performance council reads comments word for word, in its weekly digest, with no name or "
    "team, and only for a week in which at least {min_group} people answered. Your wording can "
    "still give you away."
)

PRIVACY_NOTE = (
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


def pulse_text(pulse: PulseView) -> str:
    """The notification and screen-reader text of the pulse message."""
    if pulse.skipped:
        return f"You skipped this week's pulse ({pulse.week})."
    return f"Your weekly pulse for {pulse.week}: {len(pulse.closed_questions)} quick questions, about a minute."


def pulse_message(pulse: PulseView, *, min_group: int) -> list[dict[str, Any]]:
    if pulse.skipped:
        return render(_skipped(pulse))
    heading = SectionBlock(
        text=MarkdownTextObject(
            text=f"*Your weekly pulse · {pulse.week}*\n"
            f"{len(pulse.closed_questions)} quick questions about AI in your work this week. About a minute."
        )
    )
    blocks = render([heading])
    for number, question in enumerate(pulse.closed_questions, start=1):
        chosen = pulse.chosen.get(question.key)
        blocks.extend(copy.deepcopy(_question(pulse.round_id, number, question, chosen, pulse.closed)))
    rest: list[Block] = []
    if (comment := pulse.comment_question) is not None:
        rest.append(_comment(pulse, comment, min_group))
    rest.append(_footer(pulse))
    rest.append(ContextBlock(elements=[MarkdownTextObject(text=PRIVACY_NOTE.format(min_group=min_group))]))
    return blocks + render(rest)


# Most of a pulse message is its questions, and everyone answering a round sees the same few
# versions of each (nothing chosen, or one of its options), so each version is built and
# checked once; the message is rebuilt on every click, and building it whole took longer than
# recording the answer. Callers get copies, so the cached blocks never change.
@lru_cache(maxsize=2048)
def _question(round_id: int, number: int, question: Question, chosen: int | None, closed: bool) -> list[dict[str, Any]]:
    mark = " :white_check_mark:" if chosen is not None else ""
    buttons = [
        ButtonElement(
            text=option.label,
            action_id=f"{Action.PULSE_ANSWER}:{question.key}:{index}",
            value=answer_value(round_id, question.key, index),
            style="primary" if index == chosen else None,
        )
        for index, option in enumerate(question.options)
    ]
    section = SectionBlock(block_id=f"q:{question.key}", text=MarkdownTextObject(text=f"*{number}.* {escape(question.text)}{mark}"))
    if closed:
        return render([section])
    return render([section, ActionsBlock(block_id=f"a:{question.key}", elements=buttons)])


def _comment(pulse: PulseView, question: Question, min_group: int) -> Block:
    saved = "\n_Your comment is saved._" if pulse.comment else ""
    saved += "\n" + COMMENT_READERS.format(min_group=min_group)
    button = None
    if not pulse.closed:
        button = ButtonElement(
            text="Edit comment" if pulse.comment else "Add a comment",
            action_id=Action.PULSE_COMMENT,
            value=str(pulse.round_id),
        )
    return SectionBlock(block_id="comment", text=MarkdownTextObject(text=f"{escape(question.text)}{saved}"), accessory=button)


def _footer(pulse: PulseView) -> Block:
    total = len(pulse.closed_questions)
    if pulse.closed:
        status = f"This pulse closed {slack_date(pulse.closes_at)}. Thank you."
    elif pulse.complete:
        status = f":tada: All {total} answered, thank you. You can change any answer until {slack_date(pulse.closes_at)}."
    else:
        status = f"{pulse.answered} of {total} answered. You can change answers until {slack_date(pulse.closes_at)}."
    if pulse.closed or pulse.answered:
        return ContextBlock(elements=[MarkdownTextObject(text=status)])
    return SectionBlock(
        block_id="footer",
        text=MarkdownTextObject(text=status),
        accessory=ButtonElement(text="Skip this week", action_id=Action.PULSE_SKIP, value=str(pulse.round_id)),
    )


def _skipped(pulse: PulseView) -> list[Block]:
    text = f"*Weekly pulse · {pulse.week}*\nYou skipped this week. Thanks for letting us know."
    if pulse.closed:
        return [SectionBlock(text=MarkdownTextObject(text=text))]
    return [
        SectionBlock(
            block_id="skipped",
            text=MarkdownTextObject(text=text),
            accessory=ButtonElement(text="Answer after all", action_id=Action.PULSE_UNSKIP, value=str(pulse.round_id)),
        )
    ]


def reminder_message(pulse: PulseView) -> list[dict[str, Any]]:
    return render(
        [
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*A gentle reminder:* your pulse for {pulse.week} is open until "
                    f"{slack_date(pulse.closes_at)}. It takes about a minute: scroll up to answer it."
                ),
                accessory=ButtonElement(text="Skip this week", action_id=Action.PULSE_SKIP, value=str(pulse.round_id)),
            )
        ]
    )


def reminder_text(pulse: PulseView) -> str:
    return f"A gentle reminder: your pulse for {pulse.week} is still open."


def comment_modal(pulse: PulseView, *, min_group: int) -> dict[str, Any]:
    question = pulse.comment_question
    label = question.text if question is not None else "Comment"
    view = View(
        type="modal",
        callback_id=Callback.PULSE_COMMENT,
        private_metadata=str(pulse.round_id),
        title=PlainTextObject(text="Your comment"),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
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
                hint=PlainTextObject(text=COMMENT_READERS.format(min_group=min_group)),
            )
        ],
    )
    return view.to_dict()
