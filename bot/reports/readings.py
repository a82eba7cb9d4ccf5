"""What the outputs derive from released figures: means, rates, signals, sums over teams.

Nothing here reads an answer. Every value is a released figure or arithmetic on released
figures (a mean is a released sum over its released count; a rollout is the sum of its teams'
released figures; "other teams" is the organisation less the teams released directly inside it),
so an output shows nothing the week's release did not already decide may be known.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from bot.i18n import N_
from bot.release.families import HIDDEN, ORG, PARTICIPATION, TEAM, question_measure
from bot.release.service import Released, WeekRelease
from bot.reports.alerts import WeekSignals

# In English (exports keep them so); reports translate them where a person reads them.
ORGANISATION: Final = N_("Organisation")
OTHER_TEAMS: Final = N_("Other teams")


@dataclass(frozen=True)
class Group:
    """Whose figures to read: the organisation (`path` None), a team's subtree, or the teams given
    (a rollout: `paths`, each covering its subtree)."""

    label: str
    path: str | None = None
    paths: tuple[str, ...] | None = None

    @classmethod
    def organisation(cls) -> Group:
        return cls(ORGANISATION)

    @classmethod
    def team(cls, path: str) -> Group:
        return cls(path, path=path)


def figure(release: WeekRelease, measure: str, group: Group) -> Released | None:
    """The group's released figure for a measure, or a sum of released ones; None if neither."""
    if group.paths is not None:
        return covered(release, measure, group.paths)[0]
    if group.path is None:
        return release.get(measure)
    return release.team(measure, group.path)


def question(release: WeekRelease, key: str, group: Group) -> Released | None:
    return figure(release, question_measure(key), group)


def mean(release: WeekRelease, key: str, group: Group) -> float | None:
    found = question(release, key, group)
    return None if found is None else found.mean


def participation(release: WeekRelease, group: Group) -> Released | None:
    return figure(release, PARTICIPATION, group)


def response_rate(release: WeekRelease, group: Group) -> float | None:
    found = participation(release, group)
    return None if found is None else found.mean


def hidden_hours(release: WeekRelease, group: Group) -> float | None:
    found = figure(release, HIDDEN, group)
    return None if found is None else found.total / 60


def signals(release: WeekRelease, group: Group) -> WeekSignals:
    """The group's weekly signals for alerts, each only where it was released."""
    workload = question(release, "workload", group)
    workaround = question(release, "workaround", group)
    return WeekSignals(
        week=release.week,
        capability=mean(release, "capability", group),
        workload_favourable=None if workload is None else workload.share("favourable"),
        upkeep_hours=mean(release, "upkeep", group),
        workaround_rate=None if workaround is None else workaround.share("flagged"),
        response_rate=response_rate(release, group),
    )


def net_hours(release: WeekRelease, group: Group) -> float | None:
    """Mean time saved minus mean upkeep: both released, or nothing (never a mixed figure)."""
    saved, upkeep = mean(release, "time_saved", group), mean(release, "upkeep", group)
    return None if saved is None or upkeep is None else saved - upkeep


# ---------------------------------------------------------------- sums over teams


def _outermost(paths: Iterable[str]) -> list[str]:
    """The paths not inside another of them: a nested name is never counted twice."""
    chosen = sorted(set(paths))
    return [p for p in chosen if not any(p != q and p.startswith(q + "/") for q in chosen)]


def covered(release: WeekRelease, measure: str, paths: Sequence[str]) -> tuple[Released | None, tuple[str, ...]]:
    """The sum of the released figures covering these teams, and the teams it leaves out.

    Each named team counts by its own released figure, or else by its released sub-teams (the
    outermost ones); a team with neither is left out and named. It adds no figure of its own.
    """
    released = set(release.labels(measure, TEAM))
    parts: list[str] = []
    left_out: list[str] = []
    for root in _outermost(paths):
        if root in released:
            parts.append(root)
            continue
        inside = _outermost(label for label in released if label.startswith(root + "/"))
        parts += inside
        left_out.append(root)
    total: Released | None = None
    for label in parts:
        found = release.team(measure, label)
        if found is not None:
            total = found if total is None else total + found
    return total, tuple(left_out)


def other_teams(release: WeekRelease, measure: str) -> Released | None:
    """The organisation less its outermost released teams: determined by the release, so safe.

    None when there is nobody else, or when the organisation's own figure was not released.
    """
    whole = release.get(measure, ORG)
    if whole is None:
        return None
    people, total = whole.people, whole.total
    for label in _outermost(release.labels(measure, TEAM)):
        team = release.team(measure, label)
        assert team is not None
        people -= team.people
        total -= team.total
    return Released(people, total) if people > 0 else None
