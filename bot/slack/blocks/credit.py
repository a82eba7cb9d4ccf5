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

from bot.i18n import ENGLISH, N_, Translator
from bot.labour.categories import category_name
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

FOOTNOTE = N_(
    "Shared by the people who logged it, so the effort gets credit. Hidden work logged without "
    "sharing counts only in released team figures and is never shown by name."
)


def report_line(report: SharedReport, t: Translator = ENGLISH) -> str:
    tool = escape(report.tool) if report.tool else t.gettext("no tool named")
    note = f" · {escape(report.note)}" if report.note else ""
    category = escape(category_name(report.category, t))
    return f"• {report.week} · {format_minutes(report.minutes, t)} · {category} · {tool}{note}"


def _reports_word(count: int, t: Translator = ENGLISH) -> str:
    return t.ngettext("{n} report", "{n} reports", count)


def _people_word(count: int, t: Translator = ENGLISH) -> str:
    return t.ngettext("{n} person", "{n} people", count)


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


def _person(credit: PersonCredit, t: Translator) -> list[tuple[str, int]]:
    heading = t.gettext(
        "*{person}* · total {duration} in {reports}",
        person=f"<@{credit.user_id}>",
        duration=format_minutes(credit.minutes, t),
        reports=_reports_word(len(credit.reports), t),
    )
    more = t.gettext("*{person}* (continued)", person=f"<@{credit.user_id}>")
    return _sections(heading, [report_line(r, t) for r in credit.reports], more)


def credit_text(credit: CreditForManager, t: Translator = ENGLISH) -> str:
    return t.gettext(
        "Hidden AI work shared with you: {duration} from {people}",
        duration=format_minutes(credit.minutes, t),
        people=_people_word(len(credit.people), t),
    )


def credit_messages(
    credit: CreditForManager, *, budget: int = CREDIT_MESSAGES, t: Translator = ENGLISH
) -> list[tuple[str, list[dict[str, Any]]]]:
    """(fallback text, blocks) per ephemeral message, at most `budget` of them (at least one:
    what does not fit is counted and named in it); none when nobody shared anything."""
    budget = max(budget, 1)
    if not credit.people:
        return []
    span = _span(credit.weeks, t)
    teams = ", ".join(escape(team) for team in credit.teams)
    if len(teams) > 500:
        teams = t.ngettext("your {n} team", "your {n} teams", len(credit.teams))
    summary = t.gettext(
        "{duration} from {people} in {teams}, with each person's total.",
        duration=format_minutes(credit.minutes, t),
        people=_people_word(len(credit.people), t),
        teams=teams,
    )
    # (text, whose, how many of their reports) per section, in order.
    title = t.gettext("*Hidden AI work shared with you* · {weeks}", weeks=span)
    sections: list[tuple[str, int | None, int]] = [(f"{title}\n{summary}", None, 0)]
    for index, person in enumerate(credit.people):
        sections += [(text, index, count) for text, count in _person(person, t)]
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
    note = t.gettext(FOOTNOTE)
    if rest:
        people = sorted({whose for _, whose, _ in rest if whose is not None})
        named = ", ".join(f"<@{credit.people[i].user_id}>" for i in people[:20])
        if len(people) > 20:
            named = t.gettext("{people} and {count} more", people=named, count=t.integer(len(people) - 20))
        note = (
            t.gettext(
                "Not listed, as one reply to a command holds no more: {reports} from {people}. "
                "Ask for fewer weeks or one team (`/pulse summary &lt;team&gt; 1w`) to see them.",
                reports=_reports_word(sum(n for _, _, n in rest), t),
                people=named,
            )
            + " "
            + t.gettext(FOOTNOTE)
        )
    rendered = []
    for number, texts in enumerate(messages, start=1):
        blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text)) for text in texts]
        if number == len(messages):
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
        rendered.append((credit_text(credit, t), render(blocks)))
    return rendered


def _span(weeks: tuple[str, ...] | list[str], t: Translator) -> str:
    return weeks[0] if len(weeks) == 1 else t.gettext("{first} to {last}", first=weeks[0], last=weeks[-1])


# ---------------------------------------------------------------- App Home


HOME_SECTIONS = 20  # App Home holds 100 blocks; the rest of the tab needs a dozen


def shared_home_blocks(shared: SharedByMe, t: Translator = ENGLISH) -> list[Block]:
    """What the person shared for credit in these weeks, and who can see it."""
    if shared.visible_to:
        names = ", ".join(f"<@{user}>" for user in shared.visible_to)
        audience = t.gettext("Visible to {people}: the managers of your team (or of a team above it).", people=names)
    else:
        audience = t.gettext("No manager of your team is on the roster, so nobody sees these yet.")
    title = t.gettext("*Shared with your manager* · {weeks}", weeks=_span(shared.weeks, t))
    if not shared.reports:
        heading = title + "\n" + t.gettext(
            "Nothing shared in these weeks. Tick “Show this to my "
            "manager” when you log work, and it is listed for them by name so the effort gets credit."
        )
        return [SectionBlock(text=MarkdownTextObject(text=heading)), ContextBlock(elements=[MarkdownTextObject(text=audience)])]
    total = sum(report.minutes for report in shared.reports)
    heading = title + "\n" + t.gettext(
        "{duration} in {reports}, newest first",
        duration=format_minutes(total, t),
        reports=_reports_word(len(shared.reports), t),
    )
    newest_first = [report_line(r, t) for r in reversed(shared.reports)]
    sections = _sections(heading, newest_first, t.gettext("*Shared with your manager* (continued)"))
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text)) for text, _ in sections[:HOME_SECTIONS]]
    if len(sections) > HOME_SECTIONS:
        missing = sum(count for _, count in sections[HOME_SECTIONS:])
        audience = (
            t.gettext(
                "{reports} from earlier in these weeks not listed here, as the tab holds no "
                "more: `/pulse mydata` lists every one.",
                reports=_reports_word(missing, t),
            )
            + " "
            + audience
        )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=audience)]))
    return blocks
