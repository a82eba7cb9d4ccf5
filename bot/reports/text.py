"""Plain-text formatting of digest figures, shared by the Slack message and the terminal."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bot.reports.digest_model import DECISION_LABELS, Digest, LevelLine, RolloutLine, ScoreLine
from bot.reports.questions import QuestionLine, figure_text

SPARK_BARS = "▁▂▃▄▅▆▇█"


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def hours(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.1f} h" if signed else f"{value:.1f} h"


def change(value: float | None) -> str:
    if value is None:
        return ""
    arrow = "▲" if value > 0.05 else "▼" if value < -0.05 else "▶"
    return f"{arrow} {value:+.1f}"


def score_line(score: ScoreLine) -> str:
    favourable = f" · {percent(score.favourable)} favourable" if score.favourable is not None else ""
    moved = f" {change(score.change)}" if score.change is not None else ""
    # The sparkline ends the line as is: a trailing space is a suppressed latest week, not padding.
    return f"{score.label}: {score.mean:.1f}{favourable}{moved}  {sparkline(score.series)}"


def participation_line(digest: Digest) -> str:
    if digest.sent is None:
        return f"not shown: fewer than {digest.min_group_size} people were asked"
    trend = ""
    if digest.rate_change is not None:
        trend = f" ({digest.rate_change * 100:+.0f} pts on last week)"
    so_far = " so far (the week is still open)" if digest.open_week else ""
    return f"{digest.responded} of {digest.sent} answered{so_far} · {percent(digest.response_rate)}{trend}"


def suppressed_line(digest: Digest) -> str:
    if digest.open_week:
        return "This week is still open: its figures are released once its pulse has closed."
    return f"Too few people answered for any score to be shown (each needs at least {digest.min_group_size})."


def ai_time_line(digest: Digest) -> str:
    """Time saved is self-reported and misjudged, so it never appears without upkeep and rework."""
    return (
        f"Net AI time per person: {hours(digest.net_hours, signed=True)} "
        f"(saved {hours(digest.saved_hours)} − upkeep {hours(digest.upkeep_hours)}, self-reported) · "
        f"rework often/always {percent(digest.rework_rate)} · workaround {percent(digest.workaround_rate)}"
    )


def rollout_line(rollout: RolloutLine, *, with_left_out: bool = True) -> str:
    week = f"week {rollout.weeks_since_go_live}" if rollout.weeks_since_go_live >= 0 else "before go-live"
    window = f" · in its first {rollout.window_days} days" if rollout.in_window else ""
    competency = (
        f" · competent after {rollout.time_to_competency} weeks"
        if rollout.time_to_competency is not None
        else " · capability target not reached yet"
    )
    if rollout.team_competency:
        competency += " (by team: " + ", ".join(
            f"{team} {'not yet' if weeks is None else ('1 week' if weeks == 1 else f'{weeks} weeks')}" for team, weeks in rollout.team_competency
        ) + ")"
    signal = " · PAUSE SIGNAL: " + "; ".join(rollout.reasons) if rollout.pause_signal else ""
    if rollout.left_out and with_left_out:
        signal += " · " + left_out_line(rollout)
    decided = ""
    if rollout.last_decision is not None:
        d = rollout.last_decision
        decided = f" · last decision: {DECISION_LABELS[d.decision]} ({d.decided_at:%d %b})"
    return f"{rollout.name} (live {rollout.go_live:%d %b %Y}, {week}{window}){competency}{signal}{decided}"


def left_out_line(rollout: RolloutLine) -> str:
    return "not counted this week (too few to show): " + ", ".join(rollout.left_out)


def level_line(level: LevelLine) -> str:
    favourable = f" · {percent(level.favourable)} favourable" if level.favourable is not None else ""
    return f"{level.level}: {level.mean:.1f}{favourable}"


def question_text(line: QuestionLine) -> str:
    return f"{line.text} — {figure_text(line)}"


def sparkline(values: Sequence[float | None], *, lo: float = 1.0, hi: float = 5.0) -> str:
    """One block character per value between lo and hi (clamped); a space where there is none."""
    if hi <= lo:
        raise ValueError(f"sparkline needs lo < hi, got lo={lo} hi={hi}")
    top = len(SPARK_BARS) - 1
    chars = []
    for value in values:
        if value is None or math.isnan(value):
            chars.append(" ")
            continue
        share = min(max((value - lo) / (hi - lo), 0.0), 1.0)
        chars.append(SPARK_BARS[int(share * top + 0.5)])  # half up, not to even
    return "".join(chars)
