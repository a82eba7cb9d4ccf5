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
from bot.i18n import ENGLISH, N_, Translator
from bot.models import QUESTION_MAX_CHARS
from bot.slack.blocks.common import escape, render
from bot.slack.blocks.layout import SECTION_TEXT_MAX, cut_point
from bot.slack.ids import Action, Callback
from bot.slack.ids import Block as BlockId

SECTION_MAX_CHARS = SECTION_TEXT_MAX
NAMED_VALUE = "named"
FEEDBACK_BLOCK = "explainer_feedback"

PRIVACY_NOTE = N_(
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


def explainer_text(view: ExplainerView, t: Translator = ENGLISH) -> str:
    """The notification and screen-reader text of the explainer message."""
    return t.gettext("This week's explainer: {title}", title=escape(view.explainer.title))


def explainer_message(view: ExplainerView, t: Translator = ENGLISH) -> list[dict[str, Any]]:
    explainer = view.explainer
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=explainer.title, emoji=True)),
        *sections(mrkdwn(explainer.body)),
        ContextBlock(elements=[MarkdownTextObject(text=_status(view, t))]),
        ActionsBlock(block_id=FEEDBACK_BLOCK, elements=_buttons(view, t)),
    ]
    return render(blocks)


def _status(view: ExplainerView, t: Translator) -> str:
    if view.helpful is True:
        return t.gettext(":white_check_mark: Thanks: recorded that this helped. You can change your mind below.")
    if view.helpful is False:
        return t.gettext(
            ":white_check_mark: Thanks: recorded that this did not help. If something is unclear, "
            "ask the council below."
        )
    return t.gettext("Was this useful?") + " " + t.gettext(PRIVACY_NOTE)


def _buttons(view: ExplainerView, t: Translator) -> list[ButtonElement]:
    key = view.explainer.key
    return [
        ButtonElement(
            text=t.gettext(":thumbsup: Helpful"),
            action_id=Action.EXPLAINER_HELPFUL,
            value=key,
            style="primary" if view.helpful is True else None,
        ),
        ButtonElement(
            text=t.gettext(":thumbsdown: Not helpful"),
            action_id=Action.EXPLAINER_NOT_HELPFUL,
            value=key,
            style="primary" if view.helpful is False else None,
        ),
        ButtonElement(text=t.gettext(":raising_hand: I have a question"), action_id=Action.EXPLAINER_QUESTION, value=key),
    ]


# ---------------------------------------------------------------- the question modal


def question_modal(explainer: Explainer, t: Translator = ENGLISH) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=Callback.EXPLAINER_QUESTION_MODAL,
        private_metadata=explainer.key,
        title=PlainTextObject(text=t.gettext("Ask the council")),
        submit=PlainTextObject(text=t.gettext("Send")),
        close=PlainTextObject(text=t.gettext("Cancel")),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(text=t.gettext("About the explainer *{title}*", title=escape(explainer.title)))
            ),
            InputBlock(
                block_id=BlockId.QUESTION_TEXT,
                label=PlainTextObject(text=t.gettext("Your question")),
                element=PlainTextInputElement(
                    action_id=Action.QUESTION_TEXT,
                    multiline=True,
                    max_length=QUESTION_MAX_CHARS,
                    placeholder=PlainTextObject(text=t.gettext("What is still unclear about how AI changes your work?")),
                ),
                hint=PlainTextObject(text=t.gettext("It goes to the performance council's channel.")),
            ),
            InputBlock(
                block_id=BlockId.QUESTION_NAMED,
                label=PlainTextObject(text=t.gettext("Your name")),
                optional=True,
                element=CheckboxesElement(
                    action_id=Action.QUESTION_NAMED,
                    options=[Option(value=NAMED_VALUE, text=t.gettext("Include my name"))],
                ),
                hint=PlainTextObject(text=t.gettext("Leave it unticked and the council sees the question, not who asked.")),
            ),
        ],
    )
    return view.to_dict()


def question_unavailable_modal(reason: str, t: Translator = ENGLISH) -> dict[str, Any]:
    """Shown instead of the question form when the question would have nowhere to go."""
    view = View(
        type="modal",
        title=PlainTextObject(text=t.gettext("Ask the council")),
        close=PlainTextObject(text=t.gettext("OK")),
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


def _asker(question: CouncilQuestion, t: Translator) -> str:
    # No team, level or time of day beside an anonymous question: any of them could name the asker.
    return f"<@{question.asker}>" if question.asker else t.gettext("Someone")


def council_question_text(question: CouncilQuestion, t: Translator = ENGLISH) -> str:
    return t.gettext(
        "{asker} asked the council a question about “{title}”", asker=_asker(question, t), title=escape(question.explainer_title)
    )


def council_question_message(question: CouncilQuestion, t: Translator = ENGLISH) -> list[dict[str, Any]]:
    """The question as the council reads it, in the council's language."""
    heading = ":raising_hand: " + t.gettext(
        "*{asker} asked about the explainer “{title}”*", asker=_asker(question, t), title=escape(question.explainer_title)
    )
    if question.anonymous:
        note = t.gettext("Asked anonymously: Rollout Pulse does not record who asked.")
    else:
        note = t.gettext("Asked with their name, by their choice, in {week}.", week=question.week)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=heading)),
        *sections(_quoted(question.text)),
        ContextBlock(elements=[MarkdownTextObject(text=note)]),
    ]
    return render(blocks)


def question_confirmation_text(receipt: QuestionReceipt, t: Translator = ENGLISH) -> str:
    title = escape(receipt.question.explainer_title)
    if receipt.posted:
        return t.gettext("Your question about “{title}” was sent to the council.", title=title)
    if receipt.queued:
        return t.gettext("Your question about “{title}” goes to the council with the next daily batch.", title=title)
    return t.gettext("Your question about “{title}” is saved; the next daily batch posts it.", title=title)


def question_confirmation(receipt: QuestionReceipt, t: Translator = ENGLISH) -> list[dict[str, Any]]:
    question = receipt.question
    title = escape(question.explainer_title)
    if receipt.posted and question.anonymous:
        heading = t.gettext(
            ":white_check_mark: Your question about *{title}* was sent to the performance council anonymously.", title=title
        )
    elif receipt.posted:
        heading = t.gettext(
            ":white_check_mark: Your question about *{title}* was sent to the performance council with your name.",
            title=title,
        )
    elif receipt.queued:
        heading = t.gettext(
            ":inbox_tray: Your question about *{title}* is saved without your name. It goes to the performance "
            "council with today's batch of questions (or the next one): questions asked without a name are "
            "posted together once a day, so nobody can tell from the time who asked.",
            title=title,
        )
    elif question.anonymous:
        heading = t.gettext(
            ":inbox_tray: Your question about *{title}* is saved (anonymously). Slack would not post it to the "
            "council channel just now, so it goes with the next daily batch of questions.",
            title=title,
        )
    else:
        heading = t.gettext(
            ":inbox_tray: Your question about *{title}* is saved (with your name). Slack would not post it to the "
            "council channel just now, so it goes with the next daily batch of questions.",
            title=title,
        )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=heading)),
        *sections(_quoted(question.text)),
    ]
    return render(blocks)
