"""Replies to `/pulse mydata` and `/pulse forget`."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.blocks.basic_components import ConfirmObject

from bot.labour.categories import category_name
from bot.labour.durations import format_minutes
from bot.models import PAUSED_UNTIL_RESUMED
from bot.rights import Forgotten, MyData
from bot.slack.blocks.common import escape, render
from bot.slack.ids import Action

MAX_LINES = 40  # a long history is summarised, not cut mid-line


def _listed(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    return [*lines[-MAX_LINES:], f"… and {len(lines) - MAX_LINES} earlier entries"]


def my_data_message(data: MyData) -> list[dict[str, Any]]:
    if not data.enrolled and not data.answers and not data.hidden_work:
        return render([SectionBlock(text=MarkdownTextObject(text="Nothing is stored about you: you are not on the roster."))])
    paused = "no"
    if data.paused_until is not None:
        paused = "until you resume" if data.paused_until == PAUSED_UNTIL_RESUMED else f"through {data.paused_until:%d %b %Y}"
    profile = (
        f"*What the roster says about you*\nTeam {escape(data.team or '–')} · level {escape(data.level or '–')} · "
        f"time zone {data.time_zone} · workdays {data.workdays or '–'} · country {data.country or '–'} · "
        f"council {'yes' if data.council else 'no'} · paused {paused}\n"
        f"Pulses sent: {len(data.pulses_sent)} · explainers sent: {data.explainers_sent} · explainer ratings: "
        f"{data.feedback_given} · questions asked with your name: {data.named_questions}"
    )
    answers = _listed([f"{week} · {escape(question)}: {escape(answer)}" for week, question, answer in data.answers])
    hidden = _listed(
        [
            f"{week} · {category_name(category)} · {format_minutes(minutes)}{' · shown to your manager' if shared else ''}"
            for week, category, minutes, shared in data.hidden_work
        ]
    )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=profile))]
    for title, lines in (("Your answers (stored under a pseudonym)", answers), ("Your hidden AI work", hidden)):
        body = "\n".join(lines) if lines else "none"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*{title}*\n{body}"[:3000])))
    if data.skipped_weeks:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Skipped: " + ", ".join(data.skipped_weeks))]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" ".join(data.notes) + " `/pulse forget` deletes all of it.")]))
    return render(blocks)


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
