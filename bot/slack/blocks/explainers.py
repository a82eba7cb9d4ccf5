"""The explainer DM, the question modal, the council post and the asker's confirmation.

Pure functions of the explainer views. Explainers are written in Markdown; Slack speaks its own
mrkdwn, so the few constructs the library uses (bold, italics, links, bullets, headings) are
translated here, and everything else is escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.explainers.library import Explainer
from bot.explainers.views import CouncilQuestion, ExplainerView, QuestionReceipt
from bot.models import QUESTION_MAX_CHARS
from bot.slack.blocks.common import escape, render
from bot.slack.blocks.layout import SECTION_TEXT_MAX, cut_point
from bot.slack.ids import Action, Callback
from bot.slack.ids import Block as BlockId

SECTION_MAX_CHARS = SECTION_TEXT_MAX
NAMED_VALUE = "named"
FEEDBACK_BLOCK = "explainer_feedback"

PRIVACY_NOTE = (
    ":lock: Your rating is anonymous. A question goes to the performance council without your name "
    "unless you choose to add it."
)


# ---------------------------------------------------------------- Markdown → mrkdwn

_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\*)([^*\n]+?)(?<!\*)\*(?![*\w])")
_BOLD = re.compile(r"\*\*([^*\n]+?)\*\*|__([^_\n]+?)__")


def mrkdwn(markdown: str) -> str:
    """The explainer's Markdown as Slack mrkdwn, with &, < and > escaped."""
    text = escape(markdown)
    text = _HEADING.sub(r"**\1**", text)
    text = _BULLET.sub(lambda m: f"{m.group(1)}• ", text)
    text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1).replace('|', '¦')}>", text)
    text = _ITALIC.sub(r"_\1_", text)
    return _BOLD.sub(lambda m: f"*{m.group(1) or m.group(2)}*", text)


def sections(text: str) -> list[Block]:
    """Mrkdwn text in as few section blocks as Slack's 3,000-character limit allows, split at lines."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > SECTION_MAX_CHARS:  # only a pathological line; cut it rather than fail
            chunks, current = _flush(chunks, current), ""
            cut = cut_point(line, SECTION_MAX_CHARS)
            chunks.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_MAX_CHARS:
            chunks, current = _flush(chunks, current), line
        else:
            current = candidate
    chunks = _flush(chunks, current)
    return [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in chunks]


def _flush(chunks: list[str], current: str) -> list[str]:
    return [*chunks, current] if current.strip() else chunks


def _quoted(text: str) -> str:
    return "\n".join(f"&gt; {line}" if line.strip() else "&gt;" for line in escape(text).split("\n"))


# ---------------------------------------------------------------- the explainer DM


def explainer_text(view: ExplainerView) -> str:
    """The notification and screen-reader text of the explainer message."""
    return f"This week's explainer: {escape(view.explainer.title)}"


def explainer_message(view: ExplainerView) -> list[dict[str, Any]]:
    explainer = view.explainer
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=explainer.title, emoji=True)),
        *sections(mrkdwn(explainer.body)),
        ContextBlock(elements=[MarkdownTextObject(text=_status(view))]),
        ActionsBlock(block_id=FEEDBACK_BLOCK, elements=_buttons(view)),
    ]
    return render(blocks)


def _status(view: ExplainerView) -> str:
    if view.helpful is True:
        return ":white_check_mark: Thanks: recorded that this helped. You can change your mind below."
    if view.helpful is False:
        return (
            ":white_check_mark: Thanks: recorded that this did not help. If something is unclear, "
            "ask the council below."
        )
    return f"Was this useful? {PRIVACY_NOTE}"


def _buttons(view: ExplainerView) -> list[ButtonElement]:
    key = view.explainer.key
    return [
        ButtonElement(
            text=":thumbsup: Helpful",
            action_id=Action.EXPLAINER_HELPFUL,
            value=key,
            style="primary" if view.helpful is True else None,
        ),
        ButtonElement(
            text=":thumbsdown: Not helpful",
            action_id=Action.EXPLAINER_NOT_HELPFUL,
            value=key,
            style="primary" if view.helpful is False else None,
        ),
        ButtonElement(text=":raising_hand: I have a question", action_id=Action.EXPLAINER_QUESTION, value=key),
    ]


# ---------------------------------------------------------------- the question modal


def question_modal(explainer: Explainer) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=Callback.EXPLAINER_QUESTION_MODAL,
        private_metadata=explainer.key,
        title=PlainTextObject(text="Ask the council"),
        submit=PlainTextObject(text="Send"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f"About the explainer *{escape(explainer.title)}*")),
            InputBlock(
                block_id=BlockId.QUESTION_TEXT,
                label=PlainTextObject(text="Your question"),
                element=PlainTextInputElement(
                    action_id=Action.QUESTION_TEXT,
                    multiline=True,
                    max_length=QUESTION_MAX_CHARS,
                    placeholder=PlainTextObject(text="What is still unclear about how AI changes your work?"),
                ),
                hint=PlainTextObject(text="It goes to the performance council's channel."),
            ),
            InputBlock(
                block_id=BlockId.QUESTION_NAMED,
                label=PlainTextObject(text="Your name"),
                optional=True,
                element=CheckboxesElement(
                    action_id=Action.QUESTION_NAMED,
                    options=[Option(value=NAMED_VALUE, text="Include my name")],
                ),
                hint=PlainTextObject(text="Leave it unticked and the council sees the question, not who asked."),
            ),
        ],
    )
    return view.to_dict()


def question_unavailable_modal(reason: str) -> dict[str, Any]:
    """Shown instead of the question form when the question would have nowhere to go."""
    view = View(
        type="modal",
        title=PlainTextObject(text="Ask the council"),
        close=PlainTextObject(text="OK"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=f":warning: {escape(reason)}"))],
    )
    return view.to_dict()


@dataclass(frozen=True)
class QuestionSubmission:
    explainer_key: str
    text: str
    named: bool


def parse_question_submission(view: dict[str, Any]) -> QuestionSubmission:
    """The fields of a submitted question modal; missing parts read as empty, never raise."""
    values = view.get("state", {}).get("values", {})
    text = values.get(BlockId.QUESTION_TEXT, {}).get(Action.QUESTION_TEXT, {}).get("value") or ""
    ticked = values.get(BlockId.QUESTION_NAMED, {}).get(Action.QUESTION_NAMED, {}).get("selected_options") or []
    named = any(option.get("value") == NAMED_VALUE for option in ticked)
    return QuestionSubmission(str(view.get("private_metadata") or ""), text if isinstance(text, str) else "", named)


# ---------------------------------------------------------------- the council post and the receipt


def _asker(question: CouncilQuestion) -> str:
    # No team, level or time of day beside an anonymous question: any of them could name the asker.
    return f"<@{question.asker}>" if question.asker else "Someone"


def council_question_text(question: CouncilQuestion) -> str:
    return f"{_asker(question)} asked the council a question about “{escape(question.explainer_title)}”"


def council_question_message(question: CouncilQuestion) -> list[dict[str, Any]]:
    heading = f":raising_hand: *{_asker(question)} asked about the explainer “{escape(question.explainer_title)}”*"
    if question.anonymous:
        note = "Asked anonymously: Rollout Pulse does not record who asked."
    else:
        note = f"Asked with their name, by their choice, in {question.week}."
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=heading)),
        *sections(_quoted(question.text)),
        ContextBlock(elements=[MarkdownTextObject(text=note)]),
    ]
    return render(blocks)


def question_confirmation_text(receipt: QuestionReceipt) -> str:
    title = escape(receipt.question.explainer_title)
    if receipt.posted:
        return f"Your question about “{title}” was sent to the council."
    if receipt.queued:
        return f"Your question about “{title}” goes to the council with the next daily batch."
    return f"Your question about “{title}” is saved; the next daily batch posts it."


def question_confirmation(receipt: QuestionReceipt) -> list[dict[str, Any]]:
    question = receipt.question
    how = "anonymously" if question.anonymous else "with your name"
    title = escape(question.explainer_title)
    if receipt.posted:
        heading = f":white_check_mark: Your question about *{title}* was sent to the performance council {how}."
    elif receipt.queued:
        heading = (
            f":inbox_tray: Your question about *{title}* is saved without your name. It goes to the performance "
            "council with today's batch of questions (or the next one): questions asked without a name are "
            "posted together once a day, so nobody can tell from the time who asked."
        )
    else:
        heading = (
            f":inbox_tray: Your question about *{title}* is saved ({how}). Slack would not post it to the "
            "council channel just now, so it goes with the next daily batch of questions."
        )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=heading)),
        *sections(_quoted(question.text)),
    ]
    return render(blocks)
