"""Rollouts as text: the table `pulse rollout list` prints."""

from __future__ import annotations

from collections.abc import Sequence

from bot.rollouts.service import RolloutInfo

GAP = "  "


def weeks_text(info: RolloutInfo) -> str:
    weeks = info.weeks_since_go_live
    return str(weeks) if weeks >= 0 else f"{weeks} (not live yet)"


def window_text(info: RolloutInfo) -> str:
    if info.in_window:
        return f"yes, until {info.window_ends.isoformat()}"
    if info.days_since_go_live < 0:
        return f"not yet, from {info.go_live.isoformat()}"
    return f"no, ended {info.window_ends.isoformat()}"


def rollout_table(rollouts: Sequence[RolloutInfo], window_days: int) -> str:
    """One row per rollout under a header, columns padded to line up."""
    header = ("Rollout", "Go-live", "Weeks since go-live", "Teams", f"In {window_days}-day window")
    rows = [
        (info.name, info.go_live.isoformat(), weeks_text(info), ", ".join(info.teams), window_text(info))
        for info in rollouts
    ]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    return "\n".join(
        GAP.join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)
    )
