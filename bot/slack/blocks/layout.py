"""Fitting what we send into Slack's limits by splitting it, never by cutting it.

A report is a list of *parts*: a title and its entries, in order. An entry is one line of mrkdwn
(a team's figures, an alert) or a group of blocks that must stay together (a rollout and its
decision buttons). `paginate` packs parts into as many messages as they need: lines are joined
into section blocks of at most 3,000 characters, a message holds at most 50 blocks and a bounded
amount of text, and a part that goes on in the next message says "(continued)". An entry is
never split between messages, so every page can say exactly which entries it carries; a line
too long for one section is made several entries when its part is built (`Part.of_lines`).

Every piece of user- or admin-provided text in an entry must already be escaped with
`bot.slack.blocks.common.escape`; this module only measures and packs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

# Slack's published limits.
SECTION_TEXT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
MESSAGE_TEXT_MAX = 40_000  # a message's top-level `text`
RESPONSE_URL_USES = 5  # a slash command's or a button's response_url takes at most five messages
# Slack also refuses a message whose blocks hold too much text in all (msg_blocks_too_long),
# somewhere between about 11,000 and 13,000 characters; it does not publish the figure. A page
# keeps well under it.
MESSAGE_BLOCK_TEXT_BUDGET = 8000

# A line longer than a section can hold is split into several lines (at a space when one is
# near, never inside an &entity; or a <link>); the pieces after the first are indented.
LINE_MAX = SECTION_TEXT_MAX - 100
CONTINUED_INDENT = "    "

Entry = Union[str, tuple[Block, ...]]


@dataclass(frozen=True)
class Part:
    key: str  # a stable name ("teams", "rollouts"): it identifies the part's messages in a thread
    title: str  # mrkdwn, escaped; "" for a part without a title line
    entries: tuple[Entry, ...]
    noun: str = "lines"  # what the items are, for a note such as "12 of 230 alerts shown here"
    items: tuple[int, ...] = ()  # the item each entry belongs to (a long line is several entries)
    more: str = ""  # the title where the part goes on in another message; "" for "<title> (continued)"

    @staticmethod
    def of_lines(key: str, title: str, lines: Iterable[str], *, noun: str = "lines") -> Part:
        entries: list[str] = []
        items: list[int] = []
        for item, line in enumerate(lines):
            pieces = list(split_lines([line]))
            entries += pieces
            items += [item] * len(pieces)
        return Part(key, title, tuple(entries), noun, tuple(items))

    @property
    def continued_title(self) -> str:
        return self.more or continued(self.title)

    def item_of(self, entry: int) -> int:
        return self.items[entry] if self.items else entry

    @property
    def item_count(self) -> int:
        return self.item_of(len(self.entries) - 1) + 1 if self.entries else 0

    def items_through(self, entries: int) -> int:
        """How many items are whole in the first `entries` entries."""
        if entries >= len(self.entries):
            return self.item_count
        return self.item_of(entries)


@dataclass(frozen=True, order=True)
class Position:
    """Where a page starts or ends: the part's index and the entry's index within it."""

    part: int = 0
    entry: int = 0


@dataclass(frozen=True)
class Room:
    """What one page may take, after whatever the caller adds around it (header, footer, buttons)."""

    blocks: int = MESSAGE_BLOCKS_MAX
    text: int = MESSAGE_BLOCK_TEXT_BUDGET

    def less(self, blocks: int, text: int) -> Room:
        return Room(self.blocks - blocks, self.text - text)


@dataclass
class Page:
    blocks: list[Block]
    start: Position  # the first entry on the page
    end: Position  # the first entry after it (or past the last part)
    shown: dict[int, list[int]] = field(default_factory=dict)  # part index → entry indexes on this page

    def first_of(self, part: int) -> int:
        return self.shown[part][0]

    def last_of(self, part: int) -> int:
        return self.shown[part][-1]


def split_lines(lines: Iterable[str]) -> Iterator[str]:
    """Each line, or the pieces of one too long for a section, in order and complete."""
    for line in lines:
        rest, indent = line, ""
        while len(indent) + len(rest) > LINE_MAX:
            cut = cut_point(rest, LINE_MAX - len(indent))
            yield indent + rest[:cut]
            rest, indent = rest[cut:], CONTINUED_INDENT
        yield indent + rest


def cut_point(line: str, limit: int) -> int:
    """Where to split an over-long line: at a space if one is near, never inside &amp; or <link>."""
    cut = line.rfind(" ", limit // 2, limit) + 1 or limit
    opened = line.rfind("<", 0, cut)
    if opened > line.rfind(">", 0, cut) and opened > 0:
        cut = opened
    entity = line.rfind("&", max(0, cut - 5), cut)
    if entity > 0 and ";" not in line[entity:cut]:
        cut = entity
    return cut


def text_weight(value: Any) -> int:
    """How much text a block (or a rendered block) carries: every string under a "text" key."""
    if isinstance(value, Block):
        value = value.to_dict()
    if isinstance(value, dict):
        return sum(len(item) if key == "text" and isinstance(item, str) else text_weight(item) for key, item in value.items())
    if isinstance(value, list):
        return sum(text_weight(item) for item in value)
    return 0


def paginate(parts: Sequence[Part], *, room: Room = Room(), start: Position = Position()) -> list[Page]:
    """Every entry of `parts` from `start` on, packed in order into as few pages as fit."""
    pager = _Pager(room, start)
    for part_index in range(start.part, len(parts)):
        part = parts[part_index]
        first = start.entry if part_index == start.part else 0
        for entry_index in range(first, len(part.entries)):
            pager.place(part, part_index, entry_index)
    return pager.finish(Position(len(parts), 0))


def continued(title: str) -> str:
    return f"{title} (continued)"


class _Pager:
    def __init__(self, room: Room, start: Position) -> None:
        self.room = room
        self.pages: list[Page] = []
        self._open(start)

    def _open(self, start: Position) -> None:
        self.blocks: list[Block] = []
        self.lines: list[str] = []
        self.lines_length = 0  # of "\n".join(self.lines)
        self.text = 0
        self.start = start
        self.shown: dict[int, list[int]] = {}
        self.titled: int | None = None  # the part whose title is on this page

    # -------------------------------------------------------------- placing

    def place(self, part: Part, part_index: int, entry_index: int) -> None:
        entry = part.entries[entry_index]
        title = None
        if self.titled != part_index and part.title:
            title = part.title if entry_index == 0 else part.continued_title
        if not self._fits(title, entry):
            if not self.shown:
                raise ValueError(f"an entry of {part.key!r} does not fit in an empty message")
            self._close(Position(part_index, entry_index))
            title = None
            if part.title:
                title = part.continued_title if entry_index else part.title
            if not self._fits(title, entry):
                raise ValueError(f"an entry of {part.key!r} does not fit in an empty message")
        if title is not None:
            self._add_line(title)
        self.titled = part_index
        if isinstance(entry, str):
            self._add_line(entry)
        else:
            self._flush()
            self.blocks.extend(entry)
            self.text += sum(text_weight(block) for block in entry)
        self.shown.setdefault(part_index, []).append(entry_index)

    def _fits(self, title: str | None, entry: Entry) -> bool:
        blocks, text, lines_length = len(self.blocks), self.text, self.lines_length
        open_section = bool(self.lines)
        for line in ([title] if title else []) + ([entry] if isinstance(entry, str) else []):
            if open_section and lines_length + 1 + len(line) <= SECTION_TEXT_MAX:
                lines_length += 1 + len(line)
                text += 1 + len(line)
            else:
                blocks += 1 if open_section else 0
                open_section, lines_length = True, len(line)
                text += len(line)
        if not isinstance(entry, str):
            blocks += (1 if open_section else 0) + len(entry)
            open_section = False
            text += sum(text_weight(block) for block in entry)
        blocks += 1 if open_section else 0
        return blocks <= self.room.blocks and text <= self.room.text

    def _add_line(self, line: str) -> None:
        if self.lines and self.lines_length + 1 + len(line) <= SECTION_TEXT_MAX:
            self.lines.append(line)
            self.lines_length += 1 + len(line)
            self.text += 1 + len(line)
            return
        self._flush()
        self.lines, self.lines_length = [line], len(line)
        self.text += len(line)

    def _flush(self) -> None:
        if self.lines:
            self.blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(self.lines))))
        self.lines, self.lines_length = [], 0

    def _close(self, end: Position) -> None:
        self._flush()
        self.pages.append(Page(self.blocks, self.start, end, self.shown))
        self._open(end)

    def finish(self, end: Position) -> list[Page]:
        if self.shown:
            self._close(end)
        return self.pages


# ---------------------------------------------------------------- replies through a response_url

# Around each reply's entries: a header or a line saying how many messages follow, the footer,
# and on the last message a note and a button for what follows.
REPLY_ROOM = Room().less(blocks=5, text=1500)


@dataclass(frozen=True)
class Reply:
    text: str  # the notification and screen-reader text
    blocks: list[dict[str, Any]]


def replies(
    parts: Sequence[Part],
    *,
    start: Position,
    heading: Callable[[int], list[Block]],
    footer: list[Block],
    follow_up: Callable[[Position], list[Block]],
    text: Callable[[int, int], str],
    messages: int = RESPONSE_URL_USES,
) -> list[Reply]:
    """`parts` from `start` on as the messages of one reply: at most `messages`, the five a
    response_url takes unless the caller keeps some for what follows. When more are needed, the
    last ends with `follow_up(position)`, a note and a button whose click continues from that
    position with a reply of its own.

    `heading(pages)` opens the first message (`pages`: how many messages all of it needs from
    `start`), `footer` closes the last, `text(number, count)` is each message's fallback text.
    """
    pages = paginate(parts, room=REPLY_ROOM, start=start)
    messages = max(1, min(messages, RESPONSE_URL_USES))
    shown = pages[:messages] or [Page([], start, start)]
    rest = pages[messages].start if len(pages) > messages else None
    result = []
    for number, page in enumerate(shown, start=1):
        blocks = [*(heading(len(pages)) if number == 1 else []), *page.blocks]
        if number == len(shown):
            blocks += footer
            if rest is not None:
                blocks += follow_up(rest)
        result.append(Reply(text(number, len(shown)), [block.to_dict() for block in blocks]))
    return result
