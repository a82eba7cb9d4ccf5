"""`pulse export KIND --out FILE.csv`: released figures only, for any window of weeks.

A row is one week and one group whose figure the week's release holds (the organisation, a
team's subtree, "Other teams" derived from them, or a level); a value is left empty where that
figure was not released. Any two exports, or an export and a digest, agree: they read the same
immutable weekly releases, so a window or a moment cannot be chosen to subtract anybody out.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from bot.db import Database
from bot.errors import PulseError
from bot.labour.categories import category_name
from bot.models import WORK_CATEGORIES
from bot.release.families import HIDDEN, LEVEL, ORG, PARTICIPATION, TEAM, category_measure
from bot.release.service import Released, WeekRelease, released, weeks_before
from bot.reports.readings import ORGANISATION, OTHER_TEAMS, other_teams
from bot.settings import Behaviour, Question
from bot.surveys.service import questions_by_week
from bot.weeks import IsoWeek

KINDS = ("participation", "scores", "hidden-work")


class ExportError(PulseError):
    pass


def _groups(week: WeekRelease, measure: str) -> Iterator[tuple[str, Released]]:
    """The organisation, each released team, "Other teams" when anyone is left, then levels."""
    whole = week.get(measure, ORG)
    if whole is not None:
        yield ORGANISATION, whole
    teams = week.labels(measure, TEAM)
    for label in teams:
        found = week.team(measure, label)
        assert found is not None
        yield label, found
    rest = other_teams(week, measure)
    if rest is not None and teams:
        yield OTHER_TEAMS, rest
    for level in week.labels(measure, LEVEL):
        found = week.get(measure, LEVEL, level)
        assert found is not None
        yield f"level: {level}", found


def _number(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _participation(history: list[WeekRelease], asked: Mapping[str, Sequence[Question]]) -> Iterator[list[str]]:
    yield ["week", "group", "sent", "answered", "response_rate"]
    for week in history:
        for label, figure in _groups(week, PARTICIPATION):
            yield [week.week, label, str(figure.people), str(int(figure.total)), _number(figure.mean)]


def _scores(history: list[WeekRelease], asked: Mapping[str, Sequence[Question]]) -> Iterator[list[str]]:
    """Every question each week released, by its kind: a scale's mean and favourable share, an
    hours question's mean hours, a choice's share of each option (and of its rate mark)."""
    yield ["week", "group", "question", "kind", "answered", "mean", "favourable_share", "option_shares", "rate_share"]
    for week in history:
        questions = {q.key: q for q in asked.get(week.week, ())}
        for measure in week.measures("q:"):
            key = measure.removeprefix("q:")
            question = questions.get(key)
            kind = question.kind if question is not None else ""
            for label, figure in _groups(week, measure):
                options = ""
                if question is not None and kind == "choice":
                    counts = figure.counts.get("options") or {}
                    options = "; ".join(
                        f"{o.label}: {int(counts.get(_value(o.value), 0)) / figure.people:.2f}" for o in question.options
                    )
                mean = _number(figure.mean) if kind in ("scale", "hours", "") else ""
                yield [week.week, label, key, kind, str(figure.people), mean, _number(figure.share("favourable")),
                       options, _number(figure.share("flagged"))]


def _value(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _hidden_work(history: list[WeekRelease], asked: Mapping[str, Sequence[Question]]) -> Iterator[list[str]]:
    """Hours per group; the split by category for the organisation, where it was released."""
    yield ["week", "group", "reporters", "hours", *[category_name(c) for c in WORK_CATEGORIES]]
    for week in history:
        for label, figure in _groups(week, HIDDEN):
            split = [""] * len(WORK_CATEGORIES)
            if label == ORGANISATION:
                split = [_number(f.total / 60, 1) if (f := week.get(category_measure(c))) else "" for c in WORK_CATEGORIES]
            yield [week.week, label, str(figure.people), _number(figure.total / 60, 1), *split]


WRITERS = {"participation": _participation, "scores": _scores, "hidden-work": _hidden_work}


def export(
    db: Database, behaviour: Behaviour, key: bytes, kind: str, out: Path, *, until: IsoWeek, weeks: int
) -> int:
    """Write the CSV of the released weeks in the window; returns the number of data rows."""
    if kind not in WRITERS:
        raise ExportError(f"unknown export {kind!r}; choose one of {', '.join(KINDS)}")
    history = [w for w in released(db, key, weeks_before(until, weeks), behaviour.min_group_size) if w.released]
    asked = questions_by_week(db, [w.week for w in history])
    rows = list(WRITERS[kind](history, asked))
    try:
        with out.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
    except OSError as error:
        raise ExportError(f"{out}: cannot write it: {error.strerror}") from None
    return len(rows) - 1
