"""The week's pulse comments as replies in the council digest's thread.

Word for word: each comment is escaped (`&`, `<`, `>`) so that `<!channel>` or `<@U…>` in it
mentions nobody and links nothing, mrkdwn is marked `verbatim` so Slack does not turn a bare
"@channel" or URL into one either, and nothing else is changed or dropped. Comments come in the
order given (alphabetical); they are packed into as many messages as Slack's limits need, a
comment longer than a section is continued in the next section, and the split depends only on
the comments, so a run that resumes after message 2 posts message 3 of the same split.
The fallback text carries no comment: notifications never show (or act on) what people wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.i18n import ENGLISH, Translator
from bot.slack.blocks.common import escape, render, split_text
from bot.slack.blocks.layout import MESSAGE_BLOCK_TEXT_BUDGET, MESSAGE_BLOCKS_MAX, SECTION_TEXT_MAX

# Slack's limits for a section's text and a message's blocks, and the text all blocks of one
# message may hold (Slack refuses longer ones as msg_blocks_too_long): one budget for every reply.
SECTION_CHARS = SECTION_TEXT_MAX
MESSAGE_BLOCKS = MESSAGE_BLOCKS_MAX
MESSAGE_CHARS = MESSAGE_BLOCK_TEXT_BUDGET


def comment_messages(week: str, comments: Sequence[str], t: Translator = ENGLISH) -> list[tuple[str, list[dict[str, Any]]]]:
    """(fallback text, blocks) per message, in the council's language; none for no comments."""
    packed: list[list[str]] = []
    size = 0
    for comment in comments:
        pieces = _pieces(escape(comment))
        length = sum(len(piece) for piece in pieces)
        if not packed or len(packed[-1]) + len(pieces) > MESSAGE_BLOCKS - 1 or size + length > MESSAGE_CHARS:
            packed.append([])
            size = 0
        packed[-1].extend(pieces)
        size += length
    total = len(packed)
    messages = []
    for number, sections in enumerate(packed, start=1):
        part = " · " + t.gettext("message {number} of {count}", number=t.integer(number), count=t.integer(total)) if total > 1 else ""
        heading = t.gettext("*Pulse comments · {week}*", week=week) + part + "\n" + t.ngettext(
            "{n} comment, word for word, in alphabetical order, with no name or team: "
            "the week's respondents were enough for them to be shared.",
            "{n} comments, word for word, in alphabetical order, with no name or team: "
            "the week's respondents were enough for them to be shared.",
            len(comments),
        )
        blocks: list[Block] = [ContextBlock(elements=[MarkdownTextObject(text=heading)])]
        blocks += [SectionBlock(text=MarkdownTextObject(text=piece, verbatim=True)) for piece in sections]
        messages.append((t.gettext("Pulse comments for {week}", week=week) + part, render(blocks)))
    return messages


def _pieces(text: str) -> list[str]:
    """The escaped comment in sections of at most SECTION_CHARS; nothing is dropped."""
    return split_text(text, SECTION_CHARS)
