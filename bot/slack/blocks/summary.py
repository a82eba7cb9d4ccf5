"""The ephemeral `/pulse summary` reply."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.reports.summary import GroupSummary, SummaryWeek
from bot.reports.text import hours, percent
from bot.slack.blocks.common import escape, render


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


def summary_text(summaries: list[GroupSummary]) -> str:
    return "Team summary: " + ", ".join(escape(s.label) for s in summaries)


def summary_message(summaries: list[GroupSummary], *, weeks: int, min_group: int) -> list[dict[str, Any]]:
    blocks: list[Block] = [HeaderBlock(text=f"Team summary · last {weeks} weeks")]
    for summary in summaries[:10]:
        lines = [f"*{escape(summary.label)}*", *(f"• {_week(line)}" for line in summary.weeks)]
        if summary.sub_teams:
            lines.append("Sub-teams shown this week: " + ", ".join(escape(t) for t in summary.sub_teams))
        lines += [f":warning: {escape(alert)}" for alert in summary.alerts]
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:3000])))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Only you can see this. No figure covers fewer than {min_group} people; time saved is self-reported."
                )
            ]
        )
    )
    return render(blocks)
