"""Replies to `/pulse mydata` and `/pulse forget`."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.blocks.basic_components import ConfirmObject

from bot.labour.categories import category_name
from bot.labour.durations import format_minutes
from bot.labour.views import Logged
from bot.models import PAUSED_UNTIL_RESUMED
from bot.rights import Forgotten, MyData
from bot.slack.blocks.common import escape, render
from bot.slack.blocks.layout import Part, Position, Reply, replies
from bot.slack.ids import Action

MAX_POSITION = 100_000


def my_data_parts(data: MyData) -> list[Part]:
    """Everything stored about the person, in full: the roster's facts, every answer, every
    hidden-work report with its tool and note, the weeks skipped."""
    paused = "no"
    if data.paused_until is not None:
        paused = "until you resume" if data.paused_until == PAUSED_UNTIL_RESUMED else f"through {data.paused_until:%d %b %Y}"
    profile = [
        f"Team {escape(data.team or '–')} · level {escape(data.level or '–')} · time zone {escape(data.time_zone or '–')} · "
        f"workdays {escape(data.workdays or '–')} · country {escape(data.country or '–')} · "
        f"council {'yes' if data.council else 'no'} · paused {paused}",
        f"Pulses sent: {len(data.pulses_sent)} · explainers sent: {data.explainers_sent} · explainer ratings: "
        f"{data.feedback_given} · questions asked with your name: {data.named_questions}",
    ]
    answers = [f"{week} · {escape(question)}: {escape(answer)}" for week, question, answer in data.answers]
    hidden = [_report(report) for report in data.hidden_work]
    parts = [
        Part.of_lines("profile", "*What the roster says about you*", profile),
        Part.of_lines("answers", f"*Your answers (stored under a pseudonym)* · {len(answers)}", answers or ["none"]),
        Part.of_lines("hidden_work", f"*Your hidden AI work* · {_reports(len(hidden))}", hidden or ["none"]),
    ]
    if data.skipped_weeks:
        parts.append(Part.of_lines("skipped", "*Weeks you skipped*", [", ".join(data.skipped_weeks)]))
    return parts


def _report(report: Logged) -> str:
    line = f"{report.week} · {escape(category_name(report.category))} · {format_minutes(report.minutes)}"
    if report.tool:
        line += f" · tool: {escape(report.tool)}"
    if report.shared_with_manager:
        line += " · shown to your manager"
    if report.note:
        line += f" · note: {escape(report.note)}"
    return line


def _reports(count: int) -> str:
    return "1 report" if count == 1 else f"{count} reports"


def my_data_replies(data: MyData, *, start: Position = Position()) -> list[Reply]:
    """Ephemeral messages, never a file: nothing of it stays behind in Slack. A reply takes at
    most five messages; when more are needed the fifth has a button for the rest."""
    if not data.enrolled and not data.answers and not data.hidden_work:
        text = "Nothing is stored about you: you are not on the roster."
        return [Reply(text, render([SectionBlock(text=MarkdownTextObject(text=text))]))]
    parts = my_data_parts(data)

    def heading(pages: int) -> list[Block]:
        if start != Position():
            return [_context("Everything Rollout Pulse stores about you, continued.")]
        if pages > 1:
            return [_context(f"Everything Rollout Pulse stores about you, in full, over {pages} messages.")]
        return []

    def follow_up(rest: Position) -> list[Block]:
        note = "There is more. Slack takes at most five messages in one reply, so the rest follows when you ask."
        button = ButtonElement(text="Show the rest", action_id=Action.MYDATA_MORE, value=f"{rest.part}:{rest.entry}")
        return [SectionBlock(text=MarkdownTextObject(text=note)), ActionsBlock(elements=[button])]

    footer = [_context(" ".join(data.notes) + " `/pulse forget` deletes all of it.")]
    return replies(
        parts,
        start=start,
        heading=heading,
        footer=footer,
        follow_up=follow_up,
        text=lambda number, count: "Everything Rollout Pulse stores about you" + (f" ({number} of {count})" if count > 1 else ""),
    )


def parse_more_value(value: object) -> Position:
    """Where a "Show the rest" button continues; ValueError if the app did not write it."""
    part, entry = value.split(":") if isinstance(value, str) else ()  # ValueError unless two
    return Position(_count(part), _count(entry))


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_POSITION))) or int(text) > MAX_POSITION:
        raise ValueError("not a position")
    return int(text)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def forget_confirmation() -> list[dict[str, Any]]:
    return render(
        [
            SectionBlock(
                text=MarkdownTextObject(
                    text="*Delete everything you answered and logged?* Your pulse answers, comments, hidden-work "
                    "reports, explainer ratings and named questions are deleted for good. Figures already shared "
                    "with the council stay: they are aggregates and name nobody. So do comments already "
                    "released to the council: nothing links them to you, so they cannot be found."
                )
            ),
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Delete my data",
                        action_id=Action.FORGET_CONFIRM,
                        value="forget",
                        style="danger",
                        confirm=ConfirmObject(
                            title="Delete your data?", text="This cannot be undone.", confirm="Delete", deny="Keep it"
                        ),
                    )
                ]
            ),
        ]
    )


def forgotten_message(result: Forgotten) -> list[dict[str, Any]]:
    return render([SectionBlock(text=MarkdownTextObject(text=f":wastebasket: {result.summary()}"))])
