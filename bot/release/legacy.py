"""Releasing the weeks of a database from before releases existed (used by migration 0008 only).

Those weeks have no week roster and their answers carry the team and level of the time, which
is what the upgrade then drops. They are released from per-team figures, and only with what the
old outputs already showed: the organisation and the teams the old tree rule showed
(`bot.privacy.plan_disclosure`), each figure kept only where it also passes the release rule
(`bot.release.rule`). No level, category or rollout breakdown is added, and explainer ratings of
those weeks are not released (older versions kept no first rating).

It reads the old columns with plain SQL, so it keeps working whatever the models say later.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Float, Integer, String, column, table, text
from sqlalchemy.engine import Connection

from bot import progress
from bot.models import UTCDateTime

from bot.privacy import NO_TEAM, plan_disclosure
from bot.release.families import (
    HIDDEN,
    ORG,
    PARTICIPATION,
    RATE_MARKS,
    TEAM,
    Figure,
    question_measure,
    reach_measure,
)
from bot.release.rule import Atom, Row, decide

LEGACY_RULE_VERSION = 1

# The two tables as this upgrade writes them, whatever later models say.
_RELEASES = table(
    "releases",
    column("week", String),
    column("min_group_size", Integer),
    column("rule_version", Integer),
    column("basis", String),
    column("released_at", UTCDateTime()),
)
_FIGURES = table(
    "released_figures",
    column("week", String),
    column("measure", String),
    column("scope", String),
    column("label", String),
    column("people", Integer),
    column("total", Float),
    column("counts", JSON),
)


@dataclass
class _Tally:
    count: int = 0
    total: float = 0.0
    favourable: int | None = 0
    flagged: int | None = 0


@dataclass
class _TeamWeek:
    sent: int = 0
    responded: int = 0
    tallies: dict[str, _Tally] = field(default_factory=dict)
    minutes: int = 0
    reporters: int = 0


def _parents(paths: Iterable[str]) -> dict[str, str | None]:
    parents: dict[str, str | None] = {}
    for path in paths:
        parts = path.split("/")
        for n in range(len(parts)):
            here = "/".join(parts[: n + 1])
            parents[here] = "/".join(parts[:n]) or None
    return parents


def _marks(questions: list[dict[str, Any]]) -> dict[str, float | None]:
    return {q["key"]: q.get("favourable_at_least") for q in questions if q.get("kind") != "text"}


def _settled_rows(connection: Connection, week: str, paths: Mapping[int, str]) -> dict[str, _TeamWeek] | None:
    settled = connection.execute(text("SELECT 1 FROM settled_weeks WHERE week = :week"), {"week": week}).first()
    if settled is None:
        return None
    cells: dict[str, _TeamWeek] = defaultdict(_TeamWeek)
    rows = connection.execute(
        text("SELECT team_id, sent, responded, tallies, hidden_minutes, hidden_reporters FROM team_week_figures WHERE week = :week"),
        {"week": week},
    ).all()
    for team_id, sent, responded, tallies, minutes, reporters in rows:
        cell = cells[paths.get(team_id, NO_TEAM) if team_id is not None else NO_TEAM]
        cell.sent += sent
        cell.responded += responded
        tallies = _json(tallies)
        for key, (count, total, favourable, flagged) in tallies.items():
            tally = cell.tallies.setdefault(key, _Tally())
            tally.count += int(count)
            tally.total += float(total)
            tally.favourable = None if favourable is None or tally.favourable is None else tally.favourable + favourable
            tally.flagged = None if flagged is None or tally.flagged is None else tally.flagged + flagged
        cell.minutes += sum(_json(minutes).values())
        cell.reporters += reporters
    return cells


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _raw_rows(connection: Connection, week: str, paths: Mapping[int, str]) -> dict[str, _TeamWeek]:
    cells: dict[str, _TeamWeek] = defaultdict(_TeamWeek)

    def path(team_id: int | None) -> str:
        return paths.get(team_id, NO_TEAM) if team_id is not None else NO_TEAM

    head = connection.execute(
        text("SELECT r.id, q.questions FROM pulse_rounds r JOIN question_sets q ON q.id = r.question_set_id WHERE r.week = :week"),
        {"week": week},
    ).first()
    if head is not None:
        round_id, questions = head
        marks = _marks(_json(questions))
        for team_id, count in connection.execute(
            text("SELECT team_id, count(*) FROM deliveries WHERE round_id = :r AND status = 'sent' GROUP BY team_id"),
            {"r": round_id},
        ):
            cells[path(team_id)].sent += int(count)
        for team_id, count in connection.execute(
            text("SELECT team_id, count(*) FROM responses WHERE round_id = :r AND skipped = :no GROUP BY team_id"),
            {"r": round_id, "no": False},
        ):
            cells[path(team_id)].responded += int(count)
        answers = connection.execute(
            text(
                "SELECT r.team_id, a.question_key, a.value, count(*) FROM answers a JOIN responses r ON r.id = a.response_id "
                "WHERE r.round_id = :r AND r.skipped = :no AND a.value IS NOT NULL GROUP BY r.team_id, a.question_key, a.value"
            ),
            {"r": round_id, "no": False},
        )
        for team_id, key, value, count in answers:
            if key not in marks:
                continue
            tally = cells[path(team_id)].tallies.setdefault(key, _Tally())
            tally.count += int(count)
            tally.total += float(value) * int(count)
            mark = marks[key]
            tally.favourable = None if mark is None else (tally.favourable or 0) + (int(count) if value >= mark else 0)
            rate = RATE_MARKS.get(key)
            tally.flagged = None if rate is None else (tally.flagged or 0) + (int(count) if value >= rate else 0)
    for team_id, minutes, reporters in connection.execute(
        text(
            "SELECT team_id, sum(minutes), count(DISTINCT pseudonym) FROM hidden_work_reports WHERE week = :week GROUP BY team_id"
        ),
        {"week": week},
    ):
        cell = cells[path(team_id)]
        cell.minutes += int(minutes or 0)
        cell.reporters += int(reporters)
    return cells


def _decided(
    cells: Mapping[str, _TeamWeek],
    parents: Mapping[str, str | None],
    size: Any,
    min_size: int,
) -> list[tuple[str, str]]:
    """The groups the old rule showed for this count, kept where the release rule agrees."""
    counts = {team: size(cell) for team, cell in cells.items()}
    old = plan_disclosure(dict(parents), {t: n for t, n in counts.items() if t == NO_TEAM or t in parents}, min_size)
    atoms = [Atom(team, frozenset((team, n) for n in range(count))) for team, count in counts.items()]
    wanted = [Row((ORG, ""), frozenset(counts))] if old.total_shown else []
    for team in sorted(old.shown, key=lambda t: (t.count("/"), t)):
        wanted.append(Row((TEAM, team), frozenset(t for t in counts if t == team or t.startswith(team + "/"))))
    return list(decide(atoms, wanted, min_size).released)


def _sum(cells: Mapping[str, _TeamWeek], scope: str, label: str) -> list[_TeamWeek]:
    if scope == ORG:
        return list(cells.values())
    return [cell for team, cell in cells.items() if team == label or team.startswith(label + "/")]


def legacy_figures(cells: Mapping[str, _TeamWeek], min_size: int) -> list[Figure]:
    parents = _parents(t for t in cells if t != NO_TEAM)
    figures: list[Figure] = []
    shown = _decided(cells, parents, lambda c: c.sent, min_size)
    respondents = set(_decided(cells, parents, lambda c: c.responded, min_size))
    shown = [group for group in shown if group in respondents]
    for scope, label in shown:
        part = _sum(cells, scope, label)
        figures.append(Figure(PARTICIPATION, scope, label, sum(c.sent for c in part), float(sum(c.responded for c in part))))
    keys = sorted({key for cell in cells.values() for key in cell.tallies})
    for key in keys:
        allowed = set(_decided(cells, parents, lambda c: c.tallies[key].count if key in c.tallies else 0, min_size))
        for scope, label in shown:
            if (scope, label) not in allowed:
                continue
            tallies = [c.tallies[key] for c in _sum(cells, scope, label) if key in c.tallies]
            counts: dict[str, Any] = {}
            if all(t.favourable is not None for t in tallies):
                counts["favourable"] = sum(t.favourable or 0 for t in tallies)
            if key in RATE_MARKS and all(t.flagged is not None for t in tallies):
                counts["flagged"] = sum(t.flagged or 0 for t in tallies)
            people = sum(t.count for t in tallies)
            if people:
                figures.append(Figure(question_measure(key), scope, label, people, sum(t.total for t in tallies), counts))
    for scope, label in _decided(cells, parents, lambda c: c.reporters, min_size):
        part = _sum(cells, scope, label)
        reporters = sum(c.reporters for c in part)
        if reporters:
            figures.append(Figure(HIDDEN, scope, label, reporters, float(sum(c.minutes for c in part))))
    return figures


def release_legacy_weeks(connection: Connection, weeks: Iterable[str], min_size: int, at: dt.datetime) -> int:
    """Release each of these closed weeks from its old per-team figures; returns how many."""
    paths = dict(connection.execute(text("SELECT id, path FROM teams")).all())
    released = 0
    todo = sorted(set(weeks))
    for week in todo:
        cells = _settled_rows(connection, week, paths)
        if cells is None:
            cells = _raw_rows(connection, week, paths)
        figures = legacy_figures(cells, min_size)
        reach = connection.execute(
            text("SELECT explainer_key, count(*) FROM explainer_deliveries WHERE week = :week AND status = 'sent' GROUP BY explainer_key"),
            {"week": week},
        ).all()
        figures += [Figure(reach_measure(key), ORG, "", int(n), float(n)) for key, n in sorted(reach)]
        connection.execute(
            _RELEASES.insert(),
            {"week": week, "min_group_size": min_size, "rule_version": LEGACY_RULE_VERSION, "basis": "legacy", "released_at": at},
        )
        if figures:
            connection.execute(_FIGURES.insert(), [figure.row(week) for figure in figures])
        released += 1
        progress.report("past weeks released", released, len(todo))
    return released
