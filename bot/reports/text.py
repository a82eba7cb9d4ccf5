"""Plain-text formatting of digest figures, shared by the Slack message and the terminal.

Every function takes the reader's `Translator` (English by default). English reads exactly as it
always has (Python's own formatting); any other language gets its words from the catalog and its
numbers, percentages and dates from Babel (1,5 h, 25 %, 7. Sept.).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from bot.i18n import ENGLISH, SOURCE, Translator
from bot.reports.digest_model import DECISION_LABELS, Digest, LevelLine, RolloutLine, ScoreLine
from bot.reports.questions import QuestionLine, figure_text

SPARK_BARS = "▁▂▃▄▅▆▇█"


def number(value: float, t: Translator = ENGLISH, places: int = 1) -> str:
    """A mean or hours with `places` decimals: 3.6, 3,6."""
    return f"{value:.{places}f}" if t.lang == SOURCE else t.decimal(value, places)


def signed(value: float, t: Translator = ENGLISH, places: int = 1) -> str:
    """A change with its sign: +0.4, -1.2 (+0,4 in German)."""
    if t.lang == SOURCE:
        return f"{value:+.{places}f}"
    shown = t.decimal(abs(value), places)
    return ("-" if value < 0 and shown != t.decimal(0, places) else "+") + shown


def percent(share: float | None, t: Translator = ENGLISH) -> str:
    if share is None:
        return "–"
    return f"{share:.0%}" if t.lang == SOURCE else t.percent(share)


def hours(value: float | None, *, signed: bool = False, t: Translator = ENGLISH) -> str:
    if value is None:
        return "–"
    if t.lang == SOURCE:
        return f"{value:+.1f} h" if signed else f"{value:.1f} h"
    return t.gettext("{hours} h", hours=_signed(value, t) if signed else number(value, t))


_signed = signed


def day_month(day: dt.date, t: Translator = ENGLISH) -> str:
    """A day and month: 07 Sep, 7. Sept., 7 sept."""
    return f"{day:%d %b}" if t.lang == SOURCE else t.date(day, english="dd MMM", skeleton="dMMM")


def full_date(day: dt.date, t: Translator = ENGLISH) -> str:
    """A date with its year: 07 Sep 2026, 7. Sept. 2026."""
    return f"{day:%d %b %Y}" if t.lang == SOURCE else t.date(day, english="dd MMM yyyy", skeleton="yMMMd")


def chart_title(week: str, t: Translator = ENGLISH) -> str:
    return t.gettext("Trends to {week}", week=week)


def change(value: float | None, t: Translator = ENGLISH) -> str:
    if value is None:
        return ""
    arrow = "▲" if value > 0.05 else "▼" if value < -0.05 else "▶"
    return f"{arrow} {signed(value, t)}"


def favourable(share: float, t: Translator = ENGLISH) -> str:
    return t.gettext("{share} favourable", share=percent(share, t))


def score_line(score: ScoreLine, t: Translator = ENGLISH) -> str:
    liked = f" · {favourable(score.favourable, t)}" if score.favourable is not None else ""
    moved = f" {change(score.change, t)}" if score.change is not None else ""
    # The sparkline ends the line as is: a trailing space is a suppressed latest week, not padding.
    return f"{score.label}: {number(score.mean, t)}{liked}{moved}  {sparkline(score.series)}"


def participation_line(digest: Digest, t: Translator = ENGLISH) -> str:
    if digest.sent is None:
        return t.gettext("not shown: fewer than {count} people were asked", count=t.integer(digest.min_group_size))
    trend = ""
    if digest.rate_change is not None:
        trend = " (" + t.gettext("{points} pts on last week", points=signed(digest.rate_change * 100, t, 0)) + ")"
    figures = {
        "responded": t.integer(digest.responded or 0),
        "sent": t.integer(digest.sent),
        "rate": percent(digest.response_rate, t),
        "trend": trend,
    }
    if digest.open_week:
        return t.gettext("{responded} of {sent} answered so far (the week is still open) · {rate}{trend}", **figures)
    return t.gettext("{responded} of {sent} answered · {rate}{trend}", **figures)


def suppressed_line(digest: Digest, t: Translator = ENGLISH) -> str:
    if digest.open_week:
        return t.gettext("This week is still open: its figures are released once its pulse has closed.")
    return t.gettext(
        "Too few people answered for any score to be shown (each needs at least {count}).",
        count=t.integer(digest.min_group_size),
    )


def ai_time_line(digest: Digest, t: Translator = ENGLISH) -> str:
    """Time saved is self-reported and misjudged, so it never appears without upkeep and rework."""
    return t.gettext(
        "Net AI time per person: {net} (saved {saved} − upkeep {upkeep}, self-reported) · "
        "rework often/always {rework} · workaround {workaround}",
        net=hours(digest.net_hours, signed=True, t=t),
        saved=hours(digest.saved_hours, t=t),
        upkeep=hours(digest.upkeep_hours, t=t),
        rework=percent(digest.rework_rate, t),
        workaround=percent(digest.workaround_rate, t),
    )


def decision_label(decision: str, t: Translator = ENGLISH) -> str:
    return t.gettext(DECISION_LABELS[decision])


def reason_label(reason: str, t: Translator = ENGLISH) -> str:
    """A pause signal's reason (an alert kind in words, "capability low") in the reader's language."""
    return t.gettext(reason)


def rollout_line(rollout: RolloutLine, *, with_left_out: bool = True, t: Translator = ENGLISH) -> str:
    if rollout.weeks_since_go_live >= 0:
        week = t.gettext("week {number}", number=t.integer(rollout.weeks_since_go_live))
    else:
        week = t.gettext("before go-live")
    window = " · " + t.gettext("in its first {days} days", days=t.integer(rollout.window_days)) if rollout.in_window else ""
    if rollout.time_to_competency is not None:
        competency = " · " + t.gettext("competent after {weeks} weeks", weeks=t.integer(rollout.time_to_competency))
    else:
        competency = " · " + t.gettext("capability target not reached yet")
    if rollout.team_competency:
        teams = ", ".join(f"{team} {_weeks_to_competency(weeks, t)}" for team, weeks in rollout.team_competency)
        competency += " (" + t.gettext("by team: {teams}", teams=teams) + ")"
    signal = ""
    if rollout.pause_signal:
        signal = " · " + t.gettext("PAUSE SIGNAL: {reasons}", reasons="; ".join(reason_label(r, t) for r in rollout.reasons))
    if rollout.left_out and with_left_out:
        signal += " · " + left_out_line(rollout, t)
    decided = ""
    if rollout.last_decision is not None:
        d = rollout.last_decision
        decided = " · " + t.gettext(
            "last decision: {decision} ({date})", decision=decision_label(d.decision, t), date=day_month(d.decided_at, t)
        )
    head = t.gettext(
        "{name} (live {date}, {week}{window})", name=rollout.name, date=full_date(rollout.go_live, t), week=week, window=window
    )
    return f"{head}{competency}{signal}{decided}"


def _weeks_to_competency(weeks: int | None, t: Translator) -> str:
    return t.gettext("not yet") if weeks is None else t.ngettext("{n} week", "{n} weeks", weeks)


def left_out_line(rollout: RolloutLine, t: Translator = ENGLISH) -> str:
    return t.gettext("not counted this week (too few to show): {teams}", teams=", ".join(rollout.left_out))


def level_line(level: LevelLine, t: Translator = ENGLISH) -> str:
    liked = f" · {favourable(level.favourable, t)}" if level.favourable is not None else ""
    return f"{level.level}: {number(level.mean, t)}{liked}"


def question_text(line: QuestionLine, t: Translator = ENGLISH) -> str:
    return f"{line.text} — {figure_text(line, t)}"


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
