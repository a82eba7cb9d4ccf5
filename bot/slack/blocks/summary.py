"""The ephemeral `/pulse summary` reply: every team the caller may see, split, never cut.

Each team is a part (its weeks, the sub-teams shown, its alerts), followed by the parts of
`SUMMARY_SECTIONS`: adding a section to the summary is adding a function there. The parts go
over as many messages as they need; a reply takes at most five, so when more are needed the
fifth says how far it got and has a button that shows the next teams in a reply of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.reports.questions import figure_text
from bot.reports.summary import GroupSummary, SummaryWeek
from bot.reports.text import hours, percent
from bot.slack.blocks.common import escape
from bot.slack.blocks.layout import RESPONSE_URL_USES, Part, Position, Reply, replies
from bot.slack.ids import Action
from bot.slack.inputs import SUMMARY_MAX_WEEKS

TEAM_PART = "team"
MAX_POSITION = 100_000
TEAM_MAX_CHARS = 200  # the width of a team path


def _week(line: SummaryWeek) -> str:
    if line.open:
        if not line.shown:
            return f"{line.week} (still open): too few people asked to show progress"
        return f"{line.week} (still open): {line.responded} answered so far ({percent(line.response_rate)})"
    if not line.shown:
        return f"{line.week}: too few answers to show"
    capability = "–" if line.capability is None else f"{line.capability:.1f}"
    workload = "–" if line.workload is None else f"{line.workload:.1f}"
    return (
        f"{line.week}: {line.responded} answered ({percent(line.response_rate)}) · capability {capability} · "
        f"workload {workload} · net AI time {hours(line.net_hours, signed=True)} · hidden work {hours(line.hidden_hours)}"
    )


def _team(summary: GroupSummary) -> Part:
    lines = [f"• {_week(line)}" for line in summary.weeks]
    if summary.sub_teams:
        lines.append("Sub-teams shown this week: " + ", ".join(escape(t) for t in summary.sub_teams))
    lines += [f":warning: {escape(alert)}" for alert in summary.alerts]
    lines += [f"◦ {escape(question.text)} — {escape(figure_text(question))}" for question in summary.questions]
    return Part.of_lines(TEAM_PART, f"*{escape(summary.label)}*", lines)


def _teams(summaries: Sequence[GroupSummary]) -> list[Part]:
    return [_team(summary) for summary in summaries]


SUMMARY_SECTIONS: tuple[Callable[[Sequence[GroupSummary]], list[Part]], ...] = (_teams,)


def summary_parts(summaries: Sequence[GroupSummary]) -> list[Part]:
    return [part for section in SUMMARY_SECTIONS for part in section(summaries)]


def summary_replies(
    summaries: Sequence[GroupSummary],
    *,
    team: str | None,
    weeks: int,
    min_group: int,
    start: Position = Position(),
    credit_follows: bool = False,
) -> list[Reply]:
    """The summary from `start` on, in the five messages one reply takes (four when the reports
    shared with the caller follow its last page), the last with a button for the rest when they
    do not hold it all."""
    parts = summary_parts(summaries)
    teams = sum(1 for part in parts if part.key == TEAM_PART)
    named = "1 team" if teams == 1 else f"{teams} teams"

    def heading(pages: int) -> list[Block]:
        title = f"Team summary · last {weeks} weeks" + (" (continued)" if start != Position() else "")
        blocks: list[Block] = [HeaderBlock(text=title)]
        if pages > 1:
            blocks.append(_context(f"{named.capitalize()}, over {pages} messages."))
        return blocks

    def follow_up(rest: Position) -> list[Block]:
        shown = sum(1 for part in parts[: rest.part] if part.key == TEAM_PART)
        note = (
            f"{shown} of {named} shown so far. Slack takes at most five messages in one reply, so the rest "
            + ("and the reports shared with you " if credit_follows else "")
            + "follow when you ask."
        )
        button = ButtonElement(text="Show the next teams", action_id=Action.SUMMARY_MORE, value=more_value(weeks, rest, team))
        return [SectionBlock(text=MarkdownTextObject(text=note)), ActionsBlock(elements=[button])]

    footer = [_context(f"Only you can see this. No figure covers fewer than {min_group} people; time saved is self-reported.")]
    return replies(
        parts,
        start=start,
        heading=heading,
        footer=footer,
        follow_up=follow_up,
        text=lambda number, count: f"Team summary, last {weeks} weeks: {named}" + (f" ({number} of {count})" if count > 1 else ""),
        messages=RESPONSE_URL_USES - 1 if credit_follows else RESPONSE_URL_USES,
    )


def more_value(weeks: int, start: Position, team: str | None) -> str:
    return f"{weeks}:{start.part}:{start.entry}:{team or ''}"


def parse_more_value(value: object) -> tuple[int, Position, str | None]:
    """Weeks, position and team from a "Show the next teams" button; ValueError if the app did not write it."""
    weeks, part, entry, team = value.split(":", 3) if isinstance(value, str) else ()  # ValueError unless four
    numbers = [_count(weeks, SUMMARY_MAX_WEEKS), _count(part, MAX_POSITION), _count(entry, MAX_POSITION)]
    if numbers[0] < 1 or len(team) > TEAM_MAX_CHARS:
        raise ValueError("not a summary position")
    return numbers[0], Position(numbers[1], numbers[2]), team or None


def _count(text: str, limit: int) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(limit))) or int(text) > limit:
        raise ValueError("not a count")
    return int(text)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])
