"""The digest for a terminal: `pulse digest show` and `pulse demo`."""

from __future__ import annotations

from bot.reports.digest_model import Digest
from bot.reports.text import (
    ai_time_line,
    hours,
    level_line,
    participation_line,
    percent,
    question_text,
    rollout_line,
    score_line,
    suppressed_line,
)


def render_digest(digest: Digest) -> str:
    lines = [f"Rollout Pulse · council digest for {digest.week}", "", "Participation: " + participation_line(digest)]
    if digest.suppressed:
        lines += ["", suppressed_line(digest)]
    else:
        lines += ["", "Scores (mean · favourable · change · last 8 weeks):"]
        lines += [f"  {score_line(score)}" for score in digest.scores]
        lines += ["", ai_time_line(digest)]
        if digest.hidden_hours:
            lines += ["", "Hidden AI work logged (hours): " + ", ".join(f"{label} {value:.1f}" for label, value in digest.hidden_hours)]
        if digest.groups:
            lines += ["", "By team (only groups large enough to stay anonymous):"]
            lines += [
                f"  {g.label}: {g.responded} answered ({percent(g.response_rate)}) · capability "
                f"{'–' if g.capability is None else f'{g.capability:.1f}'} · hidden work {hours(g.hidden_hours)}"
                for g in digest.groups
            ]
        if digest.clarity_by_level:
            lines += ["", "Clarity by level: " + ", ".join(level_line(level) for level in digest.clarity_by_level)]
        if digest.questions:
            lines += ["", "Every question:"] + [f"  {question_text(q)}" for q in digest.questions]
    lines += ["", "Alerts:"] + ([f"  ! {alert}" for alert in digest.alerts] or ["  none"])
    if digest.rollouts:
        lines += ["", "Rollouts:"] + [f"  {rollout_line(r)}" for r in digest.rollouts]
    if digest.explainers:
        lines += ["", "Explainers (reach · helpful):"]
        lines += [f"  {e.title}: {e.reached} · {percent(e.helpful_share)}" for e in digest.explainers]
    lines += ["", f"Open questions from explainers: {len(digest.open_questions) or 'none'}"]
    lines += [f"  {q.explainer}: {q.text} ({q.link})" for q in digest.open_questions if q.link]
    waiting = sum(1 for q in digest.open_questions if not q.link)
    if waiting:
        lines.append(f"  {waiting} more waiting to be posted")
    lines += [f"No figure covers fewer than {digest.min_group_size} people, nor lets one be worked out.", *digest.notes]
    return "\n".join(lines)
