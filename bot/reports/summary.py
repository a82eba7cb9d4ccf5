"""Manager summaries: a team's weeks, cut from the same organisation-wide plan as the digest.

A manager sees a figure for their team (or one of its sub-teams) only in weeks when the
organisation-wide plan shows that group, so summaries and the digest together never let anyone
subtract their way to a small group.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.db import Database
from bot.reports.access import Scope, summary_scope
from bot.reports.alerts import evaluate
from bot.reports.digest import ORGANISATION, PlannedWeek, answered, planned_weeks, signals, team_tree
from bot.settings import Behaviour
from bot.weeks import IsoWeek, now


@dataclass(frozen=True)
class SummaryWeek:
    week: str
    shown: bool  # False: too few answered to show anything for this group that week
    responded: int | None = None
    response_rate: float | None = None
    capability: float | None = None
    workload: float | None = None
    net_hours: float | None = None
    hidden_hours: float | None = None


@dataclass(frozen=True)
class GroupSummary:
    label: str
    weeks: tuple[SummaryWeek, ...]
    sub_teams: tuple[str, ...]  # sub-teams the latest week's plan also shows
    alerts: tuple[str, ...]


def _week_line(week: PlannedWeek, label: str | None, members: set[str] | None) -> SummaryWeek:
    if not week.rows or not week.allows(week.plan(answered), label):
        return SummaryWeek(week.week, shown=False)
    figures = week.total() if members is None else week.group(members)
    signal = signals(week, label, members)
    saved = figures.mean("time_saved") if week.shows("time_saved", label) else None
    upkeep = signal.upkeep_hours
    reporters_visible = week.allows(week.plan(lambda f: f.hidden_reporters), label)
    return SummaryWeek(
        week=week.week,
        shown=True,
        responded=figures.responded,
        response_rate=figures.responded / figures.sent if figures.sent else None,
        capability=signal.capability,
        workload=figures.mean("workload") if week.shows("workload", label) else None,
        net_hours=saved - upkeep if saved is not None and upkeep is not None else None,
        hidden_hours=figures.hidden_hours() if reporters_visible else None,
    )


def team_summaries(
    db: Database, behaviour: Behaviour, user_id: str, team: str | None, weeks: int, *, at: dt.datetime | None = None
) -> list[GroupSummary]:
    """The caller's teams (or the named one) over the last `weeks` weeks; NotAllowed otherwise."""
    scope: Scope = summary_scope(db, user_id, team)
    current = IsoWeek.of((at or now()).date())
    week_list = [current.shifted(offset) for offset in range(-weeks + 1, 1)]
    tree = team_tree(db)
    history = planned_weeks(db, week_list, tree, behaviour.min_group_size)
    roots: list[tuple[str | None, str]] = [(path, path) for path in scope.paths] or [(None, ORGANISATION)]
    result = []
    for path, label in roots:
        members = tree.subtree(path) if path is not None else None
        lines = tuple(_week_line(week, path, members) for week in history)
        latest = history[-1]
        latest_plan = latest.plan(answered)
        subs = tuple(
            name
            for name, _ in latest.shown_groups(latest_plan)
            if path is not None and name != path and name.startswith(path + "/")
        )
        alerts = tuple(str(a) for a in evaluate(label, [signals(w, path, members) for w in history], behaviour.alerts))
        result.append(GroupSummary(label, lines, subs, alerts if lines[-1].shown else ()))
    return result
