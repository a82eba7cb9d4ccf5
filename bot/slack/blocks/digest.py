"""The council digest message and its per-rollout decision buttons."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.reports.digest_model import DECISION_LABELS, DECISIONS, Digest, RolloutLine
from bot.reports.text import ai_time_line, hours, participation_line, percent, rollout_line, score_line, suppressed_line
from bot.slack.blocks.common import escape, parse_id, render
from bot.slack.ids import Action


def decision_value(rollout_id: int, week: str, decision: str) -> str:
    return f"{rollout_id}:{week}:{decision}"


def parse_decision_value(value: object) -> tuple[int, str, str]:
    """Rollout, week and decision from a digest button; ValueError if the app did not write it."""
    rollout_id, week, decision = value.split(":") if isinstance(value, str) else ()  # ValueError unless three
    if decision not in DECISIONS:
        raise ValueError(decision)
    return parse_id(rollout_id), week, decision


def digest_text(digest: Digest) -> str:
    return f"Council digest for {digest.week}: {participation_line(digest)}"


def digest_message(digest: Digest) -> list[dict[str, Any]]:
    blocks: list[Block] = [
        HeaderBlock(text=f"Council digest · {digest.week}"),
        SectionBlock(text=MarkdownTextObject(text=f"*Participation* · {participation_line(digest)}")),
    ]
    if digest.suppressed:
        blocks.append(_note(suppressed_line(digest)))
    else:
        blocks.append(_section("*Scores* (mean · favourable · change · 8 weeks)", [score_line(s) for s in digest.scores]))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=ai_time_line(digest))))
        if digest.hidden_hours:
            blocks.append(
                _section("*Hidden AI work logged*", [f"{label}: {value:.1f} h" for label, value in digest.hidden_hours])
            )
        if digest.groups:
            blocks.append(
                _section(
                    "*By team*",
                    [
                        f"{escape(g.label)}: {g.responded} answered ({percent(g.response_rate)}) · capability "
                        f"{'–' if g.capability is None else f'{g.capability:.1f}'} · hidden work {hours(g.hidden_hours)}"
                        for g in digest.groups
                    ],
                )
            )
        if digest.clarity_by_level:
            blocks.append(_section("*Clarity by level*", [f"{escape(l)}: {m:.1f}" for l, m in digest.clarity_by_level]))
    blocks.append(_section("*Alerts*", [f":warning: {escape(a)}" for a in digest.alerts] or ["None this week."]))
    if digest.explainers:
        blocks.append(
            _section("*Explainers* (reach · helpful)", [f"{escape(e.title)}: {e.reached} · {percent(e.helpful_share)}" for e in digest.explainers])
        )
    blocks.append(_note(f"Open questions from explainers: {digest.open_questions}. No figure covers fewer than {digest.min_group_size} people."))
    for rollout in digest.rollouts:
        blocks.extend(_rollout(digest.week, rollout))
    return render(blocks[:50])


def _section(title: str, lines: list[str]) -> SectionBlock:
    text = title + "\n" + "\n".join(f"• {line}" for line in lines)
    return SectionBlock(text=MarkdownTextObject(text=text[:3000]))


def _note(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _rollout(week: str, rollout: RolloutLine) -> list[Block]:
    icon = ":octagonal_sign:" if rollout.pause_signal else ":large_green_circle:"
    text = f"{icon} *{escape(rollout.name)}*\n{escape(rollout_line(rollout))}"
    if rollout.last_decision is not None:
        d = rollout.last_decision
        text += f"\nLast decision: *{DECISION_LABELS[d.decision]}* by <@{d.decided_by}>"
    return [
        DividerBlock(),
        SectionBlock(block_id=f"rollout:{rollout.rollout_id}", text=MarkdownTextObject(text=text[:3000])),
        ActionsBlock(
            block_id=f"decide:{rollout.rollout_id}",
            elements=[
                ButtonElement(
                    text=DECISION_LABELS[decision],
                    action_id=f"{Action.DIGEST_DECISION}:{decision}",
                    value=decision_value(rollout.rollout_id, week, decision),
                    style="danger" if decision == "pause" else "primary" if decision == "continue" else None,
                )
                for decision in DECISIONS
            ],
        ),
    ]
