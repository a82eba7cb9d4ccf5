"""Hidden work shared for credit: the manager's list beside `/pulse summary`, and the author's
own view of it in App Home.

Every report is listed whole (tool and note escaped, so a note cannot mention or link anyone);
a long list goes into as many sections and messages as Slack's limits need. Only when even that
would pass what one slash command can answer is the rest named, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.labour.credit import CreditForManager, PersonCredit, SharedByMe, SharedReport
from bot.labour.durations import format_minutes
from bot.slack.blocks.common import escape, render, split_text
from bot.slack.blocks.layout import MESSAGE_BLOCK_TEXT_BUDGET, MESSAGE_BLOCKS_MAX, SECTION_TEXT_MAX

# Slack's limits for a section's text and a message's blocks, and the text all blocks of one
# message may hold (Slack refuses longer ones as msg_blocks_too_long): one budget for every reply.
SECTION_CHARS = SECTION_TEXT_MAX
MESSAGE_BLOCKS = MESSAGE_BLOCKS_MAX
MESSAGE_CHARS = MESSAGE_BLOCK_TEXT_BUDGET
# A slash command's response_url takes five messages; the summary itself is the first.
CREDIT_MESSAGES = 4

FOOTNOTE = (
    "Shared by the people who logged it, so the effort gets credit. Hidden work logged without "
    "sharing counts only in released team figures and is never shown by name."
)


def report_line(report: SharedReport) -> str:
    tool = escape(report.tool) if report.tool else "no tool named"
    note = f" · {escape(report.note)}" if report.note else ""
    return f"• {report.week} · {format_minutes(report.minutes)} · {escape(report.category_name)} · {tool}{note}"


def _reports_word(count: int) -> str:
    return "1 report" if count == 1 else f"{count} reports"


def _people_word(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


def _sections(heading: str, lines: Sequence[str], continued: str) -> list[tuple[str, int]]:
    """`heading` and its lines in sections of at most SECTION_CHARS, with how many lines each
    holds; the heading is repeated (as `continued`) where the lines go on in another section. A
    line too long for one section (a long note and tool, escaped) goes on in the next."""
    sections: list[tuple[str, int]] = []
    current, count = heading, 0
    for line in lines:
        pieces = split_text(line, SECTION_CHARS - max(len(heading), len(continued)) - 1)
        for number, piece in enumerate(pieces):
            if len(current) + 1 + len(piece) > SECTION_CHARS:
                sections.append((current, count))
                current, count = continued, 0
            current += "\n" + piece
            count += number == len(pieces) - 1  # a line counts where it ends
    sections.append((current, count))
    return sections


def _person(credit: PersonCredit) -> list[tuple[str, int]]:
    heading = f"*<@{credit.user_id}>* · total {format_minutes(credit.minutes)} in {_reports_word(len(credit.reports))}"
    return _sections(heading, [report_line(r) for r in credit.reports], f"*<@{credit.user_id}>* (continued)")


def credit_text(credit: CreditForManager) -> str:
    return f"Hidden AI work shared with you: {format_minutes(credit.minutes)} from {_people_word(len(credit.people))}"


def credit_messages(credit: CreditForManager, *, budget: int = CREDIT_MESSAGES) -> list[tuple[str, list[dict[str, Any]]]]:
    """(fallback text, blocks) per ephemeral message, at most `budget` of them (at least one:
    what does not fit is counted and named in it); none when nobody shared anything."""
    budget = max(budget, 1)
    if not credit.people:
        return []
    span = credit.weeks[0] if len(credit.weeks) == 1 else f"{credit.weeks[0]} to {credit.weeks[-1]}"
    teams = ", ".join(escape(team) for team in credit.teams)
    if len(teams) > 500:
        teams = f"your {len(credit.teams)} teams"
    summary = f"{format_minutes(credit.minutes)} from {_people_word(len(credit.people))} in {teams}, with each person's total."
    # (text, whose, how many of their reports) per section, in order.
    sections: list[tuple[str, int | None, int]] = [(f"*Hidden AI work shared with you* · {span}\n{summary}", None, 0)]
    for index, person in enumerate(credit.people):
        sections += [(text, index, count) for text, count in _person(person)]
    messages: list[list[str]] = [[]]
    size = 0
    rest: list[tuple[str, int | None, int]] = []
    for position, (text, _, _) in enumerate(sections):
        # One block of each message is kept for its closing note.
        if len(messages[-1]) + 1 > MESSAGE_BLOCKS - 1 or size + len(text) > MESSAGE_CHARS:
            if len(messages) == budget:
                rest = sections[position:]
                break
            messages.append([])
            size = 0
        messages[-1].append(text)
        size += len(text)
    note = FOOTNOTE
    if rest:
        people = sorted({whose for _, whose, _ in rest if whose is not None})
        named = ", ".join(f"<@{credit.people[i].user_id}>" for i in people[:20])
        others = f" and {len(people) - 20} more" if len(people) > 20 else ""
        note = (
            f"Not listed, as one reply to a command holds no more: {_reports_word(sum(n for _, _, n in rest))} "
            f"from {named}{others}. Ask for fewer weeks or one team (`/pulse summary &lt;team&gt; 1w`) to see them. " + FOOTNOTE
        )
    rendered = []
    for number, texts in enumerate(messages, start=1):
        blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text)) for text in texts]
        if number == len(messages):
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
        rendered.append((credit_text(credit), render(blocks)))
    return rendered


# ---------------------------------------------------------------- App Home


HOME_SECTIONS = 20  # App Home holds 100 blocks; the rest of the tab needs a dozen


def shared_home_blocks(shared: SharedByMe) -> list[Block]:
    """What the person shared for credit in these weeks, and who can see it."""
    if shared.visible_to:
        names = ", ".join(f"<@{user}>" for user in shared.visible_to)
        audience = f"Visible to {names}: the managers of your team (or of a team above it)."
    else:
        audience = "No manager of your team is on the roster, so nobody sees these yet."
    span = f"{shared.weeks[0]} to {shared.weeks[-1]}" if len(shared.weeks) > 1 else shared.weeks[0]
    if not shared.reports:
        heading = (
            f"*Shared with your manager* · {span}\nNothing shared in these weeks. Tick “Show this to my "
            "manager” when you log work, and it is listed for them by name so the effort gets credit."
        )
        return [SectionBlock(text=MarkdownTextObject(text=heading)), ContextBlock(elements=[MarkdownTextObject(text=audience)])]
    total = sum(report.minutes for report in shared.reports)
    heading = f"*Shared with your manager* · {span}\n{format_minutes(total)} in {_reports_word(len(shared.reports))}, newest first"
    newest_first = [report_line(r) for r in reversed(shared.reports)]
    sections = _sections(heading, newest_first, "*Shared with your manager* (continued)")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text)) for text, _ in sections[:HOME_SECTIONS]]
    if len(sections) > HOME_SECTIONS:
        missing = sum(count for _, count in sections[HOME_SECTIONS:])
        audience = (
            f"{_reports_word(missing)} from earlier in these weeks not listed here, as the tab holds no "
            "more: `/pulse mydata` lists every one. " + audience
        )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=audience)]))
    return blocks
