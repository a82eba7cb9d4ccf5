"""The ephemeral `/pulse summary` reply: every team the caller may see, split, never cut.

Each team is a part (its weeks, the sub-teams shown, its alerts), followed by the parts of
`SUMMARY_SECTIONS`: adding a section to the summary is adding a function there. The parts go
over as many messages as they need; a reply takes at most five, so when more are needed the
fifth says how far it got and has a button that shows the next teams in a reply of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.i18n import ENGLISH, SOURCE, Translator
from bot.reports.questions import figure_text
from bot.reports.summary import GroupSummary, SummaryWeek
from bot.reports.text import hours, number, percent
from bot.slack.blocks.common import escape
from bot.slack.blocks.layout import RESPONSE_URL_USES, Part, Position, Reply, replies
from bot.slack.ids import Action
from bot.slack.inputs import SUMMARY_MAX_WEEKS

TEAM_PART = "team"
MAX_POSITION = 100_000
TEAM_MAX_CHARS = 200  # the width of a team path


def _week(line: SummaryWeek, t: Translator) -> str:
    if line.open:
        if not line.shown:
            return t.gettext("{week} (still open): too few people asked to show progress", week=line.week)
        return t.gettext(
            "{week} (still open): {responded} answered so far ({rate})",
            week=line.week, responded=t.integer(line.responded or 0), rate=percent(line.response_rate, t),
        )
    if not line.shown:
        return t.gettext("{week}: too few answers to show", week=line.week)
    return t.gettext(
        "{week}: {responded} answered ({rate}) · capability {capability} · workload {workload} · "
        "net AI time {net} · hidden work {hidden}",
        week=line.week,
        responded=t.integer(line.responded or 0),
        rate=percent(line.response_rate, t),
        capability="–" if line.capability is None else number(line.capability, t),
        workload="–" if line.workload is None else number(line.workload, t),
        net=hours(line.net_hours, signed=True, t=t),
        hidden=hours(line.hidden_hours, t=t),
    )


def _team(summary: GroupSummary, t: Translator) -> Part:
    lines = [f"• {_week(line, t)}" for line in summary.weeks]
    if summary.sub_teams:
        lines.append(t.gettext("Sub-teams shown this week: {teams}", teams=", ".join(escape(team) for team in summary.sub_teams)))
    lines += [f":warning: {escape(alert)}" for alert in summary.alerts]
    lines += [f"◦ {escape(question.text)} — {escape(figure_text(question, t))}" for question in summary.questions]
    part = Part.of_lines(TEAM_PART, f"*{escape(summary.label)}*", lines)
    return part if t.lang == SOURCE else replace(part, more=t.gettext("{title} (continued)", title=part.title))


def _teams(summaries: Sequence[GroupSummary], t: Translator) -> list[Part]:
    return [_team(summary, t) for summary in summaries]


SUMMARY_SECTIONS: tuple[Callable[[Sequence[GroupSummary], Translator], list[Part]], ...] = (_teams,)


def summary_parts(summaries: Sequence[GroupSummary], t: Translator = ENGLISH) -> list[Part]:
    return [part for section in SUMMARY_SECTIONS for part in section(summaries, t)]


def summary_replies(
    summaries: Sequence[GroupSummary],
    *,
    team: str | None,
    weeks: int,
    min_group: int,
    start: Position = Position(),
    credit_follows: bool = False,
    t: Translator = ENGLISH,
) -> list[Reply]:
    """The summary from `start` on, in the five messages one reply takes (four when the reports
    shared with the caller follow its last page), the last with a button for the rest when they
    do not hold it all; in the caller's language."""
    parts = summary_parts(summaries, t)
    teams = sum(1 for part in parts if part.key == TEAM_PART)

    def heading(pages: int) -> list[Block]:
        # English has always said "last 1 weeks"; other languages choose their form for the number.
        title = t.ngettext("Team summary · last {n} weeks", "Team summary · last {n} weeks", weeks)
        if start != Position():
            title = t.gettext("{title} (continued)", title=title)
        blocks: list[Block] = [HeaderBlock(text=title)]
        if pages > 1:
            blocks.append(_context(t.ngettext(
                "{n} team, over {pages} messages.", "{n} teams, over {pages} messages.", teams, pages=t.integer(pages)
            )))
        return blocks

    def follow_up(rest: Position) -> list[Block]:
        shown = sum(1 for part in parts[: rest.part] if part.key == TEAM_PART)
        if credit_follows:
            note = t.ngettext(
                "{shown} of {n} team shown so far. Slack takes at most five messages in one reply, so the rest "
                "and the reports shared with you follow when you ask.",
                "{shown} of {n} teams shown so far. Slack takes at most five messages in one reply, so the rest "
                "and the reports shared with you follow when you ask.",
                teams, shown=t.integer(shown),
            )
        else:
            note = t.ngettext(
                "{shown} of {n} team shown so far. Slack takes at most five messages in one reply, so the rest "
                "follow when you ask.",
                "{shown} of {n} teams shown so far. Slack takes at most five messages in one reply, so the rest "
                "follow when you ask.",
                teams, shown=t.integer(shown),
            )
        button = ButtonElement(
            text=t.gettext("Show the next teams"), action_id=Action.SUMMARY_MORE, value=more_value(weeks, rest, team)
        )
        return [SectionBlock(text=MarkdownTextObject(text=note)), ActionsBlock(elements=[button])]

    footer = [_context(t.gettext(
        "Only you can see this. No figure covers fewer than {count} people; time saved is self-reported.",
        count=t.integer(min_group),
    ))]

    def text(number: int, count: int) -> str:
        said = t.ngettext("Team summary, last {weeks} weeks: {n} team", "Team summary, last {weeks} weeks: {n} teams", teams,
                          weeks=t.integer(weeks))
        if count > 1:
            said += " " + t.gettext("({number} of {count})", number=t.integer(number), count=t.integer(count))
        return said

    return replies(
        parts,
        start=start,
        heading=heading,
        footer=footer,
        follow_up=follow_up,
        text=text,
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
