"""Replies to `/pulse mydata` and `/pulse forget`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.blocks.basic_components import ConfirmObject

from bot.i18n import ENGLISH, Translator
from bot.labour.categories import category_name
from bot.labour.durations import format_minutes
from bot.labour.views import Logged
from bot.models import PAUSED_UNTIL_RESUMED
from bot.rights import Forgotten, MyData
from bot.slack.blocks.common import escape, render
from bot.slack.blocks.layout import Part, Position, Reply, replies
from bot.slack.ids import Action

MAX_POSITION = 100_000


def my_data_parts(data: MyData, t: Translator = ENGLISH) -> list[Part]:
    """Everything stored about the person, in full: the roster's facts, every answer, every
    hidden-work report with its tool and note, the weeks skipped."""
    paused = t.gettext("no")
    if data.paused_until is not None:
        if data.paused_until == PAUSED_UNTIL_RESUMED:
            paused = t.gettext("until you resume")
        else:
            day = t.date(data.paused_until, english="dd MMM yyyy", skeleton="yMMMd")
            paused = t.gettext("through {date}", date=day)
    profile = [
        t.gettext(
            "Team {team} · level {level} · time zone {tz} · workdays {workdays} · country {country} · "
            "council {council} · paused {paused}",
            team=escape(data.team or "–"),
            level=escape(data.level or "–"),
            tz=escape(data.time_zone or "–"),
            workdays=escape(data.workdays or "–"),
            country=escape(data.country or "–"),
            council=t.gettext("yes") if data.council else t.gettext("no"),
            paused=paused,
        ),
        t.gettext(
            "Pulses sent: {pulses} · explainers sent: {explainers} · explainer ratings: "
            "{ratings} · questions asked with your name: {questions}",
            pulses=t.integer(len(data.pulses_sent)),
            explainers=t.integer(data.explainers_sent),
            ratings=t.integer(data.feedback_given),
            questions=t.integer(data.named_questions),
        ),
    ]
    answers = [f"{week} · {escape(question)}: {escape(answer)}" for week, question, answer in data.answers]
    hidden = [_report(report, t) for report in data.hidden_work]
    none = [t.gettext("none")]
    parts = [
        _part("profile", t.gettext("*What the roster says about you*"), profile, t),
        _part(
            "answers",
            t.gettext("*Your answers (stored under a pseudonym)* · {count}", count=t.integer(len(answers))),
            answers or none,
            t,
        ),
        _part("hidden_work", t.gettext("*Your hidden AI work* · {reports}", reports=_reports(len(hidden), t)), hidden or none, t),
    ]
    if data.skipped_weeks:
        parts.append(_part("skipped", t.gettext("*Weeks you skipped*"), [", ".join(data.skipped_weeks)], t))
    return parts


def _part(key: str, title: str, lines: list[str], t: Translator) -> Part:
    part = Part.of_lines(key, title, lines)
    return part if t.lang == ENGLISH.lang else replace(part, more=t.gettext("{title} (continued)", title=title))


def _report(report: Logged, t: Translator = ENGLISH) -> str:
    line = f"{report.week} · {escape(category_name(report.category, t))} · {format_minutes(report.minutes, t)}"
    if report.tool:
        line += " · " + t.gettext("tool: {tool}", tool=escape(report.tool))
    if report.shared_with_manager:
        line += " · " + t.gettext("shown to your manager")
    if report.note:
        line += " · " + t.gettext("note: {note}", note=escape(report.note))
    return line


def _reports(count: int, t: Translator = ENGLISH) -> str:
    return t.ngettext("{n} report", "{n} reports", count)


def my_data_replies(data: MyData, *, start: Position = Position(), t: Translator = ENGLISH) -> list[Reply]:
    """Ephemeral messages, never a file: nothing of it stays behind in Slack. A reply takes at
    most five messages; when more are needed the fifth has a button for the rest."""
    if not data.enrolled and not data.answers and not data.hidden_work:
        text = t.gettext("Nothing is stored about you: you are not on the roster.")
        return [Reply(text, render([SectionBlock(text=MarkdownTextObject(text=text))]))]
    parts = my_data_parts(data, t)

    def heading(pages: int) -> list[Block]:
        if start != Position():
            return [_context(t.gettext("Everything Rollout Pulse stores about you, continued."))]
        if pages > 1:
            return [
                _context(
                    t.ngettext(
                        "Everything Rollout Pulse stores about you, in full, over {n} message.",
                        "Everything Rollout Pulse stores about you, in full, over {n} messages.",
                        pages,
                    )
                )
            ]
        return []

    def follow_up(rest: Position) -> list[Block]:
        note = t.gettext("There is more. Slack takes at most five messages in one reply, so the rest follows when you ask.")
        button = ButtonElement(
            text=t.gettext("Show the rest"), action_id=Action.MYDATA_MORE, value=f"{rest.part}:{rest.entry}"
        )
        return [SectionBlock(text=MarkdownTextObject(text=note)), ActionsBlock(elements=[button])]

    notes = " ".join(t.gettext(note) for note in data.notes)
    footer = [_context(notes + " " + t.gettext("`/pulse forget` deletes all of it."))]

    def text(number: int, count: int) -> str:
        if count > 1:
            return t.gettext(
                "Everything Rollout Pulse stores about you ({number} of {count})",
                number=t.integer(number),
                count=t.integer(count),
            )
        return t.gettext("Everything Rollout Pulse stores about you")

    return replies(parts, start=start, heading=heading, footer=footer, follow_up=follow_up, text=text)


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


def forget_text(t: Translator = ENGLISH) -> str:
    return t.gettext("Delete everything you answered and logged?")


def forget_confirmation(t: Translator = ENGLISH) -> list[dict[str, Any]]:
    return render(
        [
            SectionBlock(
                text=MarkdownTextObject(
                    text=t.gettext(
                        "*Delete everything you answered and logged?* Your pulse answers, comments, hidden-work "
                        "reports, explainer ratings and named questions are deleted for good. Figures already shared "
                        "with the council stay: they are aggregates and name nobody. So do comments already "
                        "released to the council: nothing links them to you, so they cannot be found."
                    )
                )
            ),
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=t.gettext("Delete my data"),
                        action_id=Action.FORGET_CONFIRM,
                        value="forget",
                        style="danger",
                        confirm=ConfirmObject(
                            title=t.gettext("Delete your data?"),
                            text=t.gettext("This cannot be undone."),
                            confirm=t.gettext("Delete"),
                            deny=t.gettext("Keep it"),
                        ),
                    )
                ]
            ),
        ]
    )


def forgotten_message(result: Forgotten, t: Translator = ENGLISH) -> list[dict[str, Any]]:
    return render([SectionBlock(text=MarkdownTextObject(text=f":wastebasket: {result.summary(t)}"))])
