"""`pulse export KIND --out FILE.csv`: aggregates only, under the same plans as the digest.

A row is one week and one group the week's plan shows (the organisation, a team's subtree, or
"Other teams"); a value is left empty where that figure's own respondents are too few.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

from bot.db import Database
from bot.errors import PulseError
from bot.labour.categories import category_name
from bot.models import WORK_CATEGORIES
from bot.privacy import large_enough
from bot.reports.aggregates import GroupFigures
from bot.reports.digest import ORGANISATION, PlannedWeek, answered, planned_weeks, team_tree
from bot.settings import Behaviour
from bot.weeks import IsoWeek

SCORE_KEYS = ("capability", "workload", "clarity", "recognition", "time_saved", "upkeep")
KINDS = ("participation", "scores", "hidden-work")


class ExportError(PulseError):
    pass


def _groups(week: PlannedWeek, count: Callable[[GroupFigures], int]) -> Iterator[tuple[str, GroupFigures]]:
    plan = week.plan(count)
    if plan.total_shown:
        yield ORGANISATION, week.total()
    for label, members in week.shown_groups(plan):
        yield label, week.group(members)


def _plan_label(label: str) -> str | None:
    """The engine names the organisation's figure "the total" (None)."""
    return None if label == ORGANISATION else label


def _number(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _participation(history: list[PlannedWeek]) -> Iterator[list[str]]:
    yield ["week", "group", "sent", "answered", "response_rate"]
    for week in history:
        for label, figures in _groups(week, answered):
            rate = figures.responded / figures.sent if figures.sent else None
            yield [week.week, label, str(figures.sent), str(figures.responded), _number(rate)]


def _scores(history: list[PlannedWeek]) -> Iterator[list[str]]:
    yield ["week", "group", "question", "answered", "mean", "favourable_share"]
    for week in history:
        for label, figures in _groups(week, answered):
            for key in SCORE_KEYS:
                if not large_enough(figures.count(key), week.min_size) or not week.shows(key, _plan_label(label)):
                    continue
                yield [week.week, label, key, str(figures.count(key)), _number(figures.mean(key)), _number(figures.favourable_share(key))]


def _hidden_work(history: list[PlannedWeek]) -> Iterator[list[str]]:
    """Hours per group; the split by category only for the organisation, as in the digest.

    Crossing teams with categories would publish two breakdowns of the same hours whose
    differences the confidentiality engine cannot vouch for.
    """
    yield ["week", "group", "reporters", "hours", *[category_name(c) for c in WORK_CATEGORIES]]
    for week in history:
        for label, figures in _groups(week, lambda f: f.hidden_reporters):
            split = [_number(figures.hidden_minutes.get(c, 0) / 60, 1) if label == ORGANISATION else "" for c in WORK_CATEGORIES]
            total = sum(figures.hidden_minutes.values()) / 60
            yield [week.week, label, str(figures.hidden_reporters), _number(total, 1), *split]


WRITERS = {"participation": _participation, "scores": _scores, "hidden-work": _hidden_work}


def export(db: Database, behaviour: Behaviour, kind: str, out: Path, *, until: IsoWeek, weeks: int) -> int:
    """Write the CSV; returns the number of data rows."""
    if kind not in WRITERS:
        raise ExportError(f"unknown export {kind!r}; choose one of {', '.join(KINDS)}")
    week_list = [until.shifted(offset) for offset in range(-weeks + 1, 1)]
    history = planned_weeks(db, week_list, team_tree(db), behaviour.min_group_size)
    rows = list(WRITERS[kind](history))
    try:
        with out.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
    except OSError as error:
        raise ExportError(f"{out}: cannot write it: {error.strerror}") from None
    return len(rows) - 1
