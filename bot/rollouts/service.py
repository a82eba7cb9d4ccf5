"""Rollouts: add and list them, and read one week by week since its go-live.

A rollout covers the teams it names and all their sub-teams. Its reading rules are in the
behaviour file's `rollouts:` section: the capability target that defines time-to-competency, the
grace weeks in which a dip is expected, the early-life window, and how many alerts signal a pause.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import Database
from bot.errors import RolloutError
from bot.models import Rollout, RolloutTeam, Team
from bot.reports.alerts import EPSILON, Alert, AlertKind
from bot.settings import RolloutRules
from bot.weeks import UTC, IsoWeek, now

NAME_MAX_CHARS = 100  # the width of rollouts.name
DEFAULT_WINDOW_DAYS = RolloutRules().window_days

# A thin week of answers says the data is weak, not that capability is failing to stick.
NOT_A_PAUSE_REASON = frozenset({AlertKind.response_low})


# ---------------------------------------------------------------- weeks and windows


def weeks_since_go_live(go_live: dt.date, week: IsoWeek) -> int:
    """0 in the go-live week, 1 the week after; negative before go-live. ISO weeks, so a year
    with 53 weeks is counted right."""
    return week.ordinal - IsoWeek.of(go_live).ordinal


def window_end(go_live: dt.date, window_days: int) -> dt.date:
    """The last day of the early-life window: the go-live day is day 1 of `window_days`."""
    return go_live + dt.timedelta(days=window_days - 1)


def in_window(go_live: dt.date, day: dt.date, window_days: int) -> bool:
    return go_live <= day <= window_end(go_live, window_days)


def time_to_competency(
    weekly_capability: Mapping[str, float | None] | Mapping[IsoWeek, float | None],
    go_live: dt.date,
    target: float,
) -> int | None:
    """Weeks from go-live to the first week (from the go-live week on) whose capability reaches
    `target`; None while no week has. Suppressed weeks (None) never count as reached."""
    start = IsoWeek.of(go_live)
    reached = [
        week
        for week, capability in _by_week(weekly_capability)
        if week >= start and capability is not None and capability > target - EPSILON
    ]
    return weeks_since_go_live(go_live, min(reached)) if reached else None


def _by_week(weekly: Mapping[str, float | None] | Mapping[IsoWeek, float | None]) -> list[tuple[IsoWeek, float | None]]:
    return [(week if isinstance(week, IsoWeek) else IsoWeek.parse(week), value) for week, value in weekly.items()]


# ---------------------------------------------------------------- the pause signal


@dataclass(frozen=True)
class PauseSignal:
    raised: bool
    reasons: list[str] = field(default_factory=list)  # "Team: alert message", when raised


def pause_signal(rollout_week_index: int, alerts: Iterable[Alert], rules: RolloutRules) -> PauseSignal:
    """Whether the covered teams' alerts for the week read say capability is not sticking.

    Nothing is signalled before go-live or in the grace weeks (the dip there is expected); after
    them, `pause_when_alerts_at_least` distinct alerts across the covered teams raise the signal.
    A low response rate is not counted: it says the data is thin, not that the rollout fails.
    """
    if rollout_week_index < rules.grace_weeks or rollout_week_index < 0:
        return PauseSignal(raised=False)
    counted = _distinct(alert for alert in alerts if alert.kind not in NOT_A_PAUSE_REASON)
    if len(counted) < rules.pause_when_alerts_at_least:
        return PauseSignal(raised=False)
    return PauseSignal(raised=True, reasons=[str(alert) for alert in counted])


def _distinct(alerts: Iterable[Alert]) -> list[Alert]:
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for alert in alerts:
        key = (alert.group, alert.kind, alert.week)
        if key not in seen:
            seen.add(key)
            kept.append(alert)
    return kept


# ---------------------------------------------------------------- adding and listing


@dataclass(frozen=True)
class RolloutInfo:
    """A rollout as read on a given day."""

    id: int
    name: str
    go_live: dt.date
    teams: tuple[str, ...]  # team paths as named; their sub-teams are covered too
    weeks_since_go_live: int  # 0 in the go-live week; negative before it
    days_since_go_live: int  # 0 on the go-live day; negative before it
    in_window: bool
    window_ends: dt.date


def add_rollout(
    db: Database,
    name: str,
    go_live: dt.date,
    team_paths: Iterable[str],
    *,
    at: dt.datetime | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> RolloutInfo:
    """Record a rollout covering existing roster teams; RolloutError says what is wrong, in one line."""
    at = at or now()
    name = _rollout_name(name)
    paths = _team_paths(team_paths)
    try:
        with db.session() as session:
            _require_new_name(session, name)
            team_ids = _team_ids(session, paths)
            rollout = Rollout(name=name, go_live=go_live, created_at=at)
            session.add(rollout)
            session.flush()
            session.add_all(RolloutTeam(rollout_id=rollout.id, team_id=team_id) for team_id in team_ids)
            rollout_id = rollout.id
    except IntegrityError:
        # Another process added the same name between our check and our insert.
        raise RolloutError(f"a rollout named {name!r} already exists") from None
    return _info(rollout_id, name, go_live, tuple(sorted(paths)), _today(at), window_days)


def list_rollouts(
    db: Database, *, at: dt.datetime | None = None, window_days: int = DEFAULT_WINDOW_DAYS
) -> list[RolloutInfo]:
    """Every rollout, earliest go-live first, read as of `at` (now by default)."""
    today = _today(at or now())
    with db.session() as session:
        rollouts = session.execute(
            select(Rollout.id, Rollout.name, Rollout.go_live).order_by(Rollout.go_live, Rollout.name)
        ).all()
        teams: dict[int, list[str]] = {}
        for rollout_id, path in session.execute(
            select(RolloutTeam.rollout_id, Team.path).join(Team, Team.id == RolloutTeam.team_id)
        ):
            teams.setdefault(rollout_id, []).append(path)
    return [
        _info(row.id, row.name, row.go_live, tuple(sorted(teams.get(row.id, ()))), today, window_days)
        for row in rollouts
    ]


def covered_team_ids(db: Database, rollout: int | RolloutInfo) -> frozenset[int]:
    """The ids of the teams a rollout names and of all their sub-teams, at any depth."""
    rollout_id = rollout.id if isinstance(rollout, RolloutInfo) else rollout
    with db.session() as session:
        return covered_team_ids_in(session, rollout_id)


def covered_team_ids_in(session: Session, rollout_id: int) -> frozenset[int]:
    """covered_team_ids inside a caller's session (the digest reads many things in one)."""
    # Walk parent links rather than match path prefixes: LIKE is case-blind on SQLite only.
    named = select(RolloutTeam.team_id.label("id")).where(RolloutTeam.rollout_id == rollout_id)
    covered = named.cte("covered", recursive=True)
    covered = covered.union(select(Team.id).join(covered, Team.parent_id == covered.c.id))
    return frozenset(session.scalars(select(covered.c.id)))


def _info(
    rollout_id: int, name: str, go_live: dt.date, teams: tuple[str, ...], today: dt.date, window_days: int
) -> RolloutInfo:
    return RolloutInfo(
        id=rollout_id,
        name=name,
        go_live=go_live,
        teams=teams,
        weeks_since_go_live=weeks_since_go_live(go_live, IsoWeek.of(today)),
        days_since_go_live=(today - go_live).days,
        in_window=in_window(go_live, today, window_days),
        window_ends=window_end(go_live, window_days),
    )


def _today(at: dt.datetime) -> dt.date:
    return at.astimezone(UTC).date()


# ---------------------------------------------------------------- checking what was given


def _rollout_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise RolloutError("a rollout needs a name, e.g. \"Copilot for Sales\"")
    if not name.isprintable():
        raise RolloutError("a rollout name must be one line of plain text")
    if len(name) > NAME_MAX_CHARS:
        raise RolloutError(f"a rollout name must be at most {NAME_MAX_CHARS} characters (this one has {len(name)})")
    return name


def _team_paths(given: Iterable[str]) -> list[str]:
    """The team paths as the roster writes them ("Sales / EMEA" is Sales/EMEA), each once."""
    paths: list[str] = []
    for text in [given] if isinstance(given, str) else given:
        if not text.strip():
            continue
        segments = [segment.strip() for segment in text.split("/")]
        if any(not segment for segment in segments):
            raise RolloutError(f"{text.strip()!r} is not a team path such as Sales/EMEA")
        path = "/".join(segments)
        if path not in paths:
            paths.append(path)
    if not paths:
        raise RolloutError("a rollout needs at least one team, e.g. --teams Sales,Support")
    return paths


def _require_new_name(session: Session, name: str) -> None:
    # Case-blind, so "copilot" does not sit beside "Copilot" as a second rollout.
    existing = session.scalar(select(Rollout).where(func.lower(Rollout.name) == name.lower()))
    if existing is not None:
        raise RolloutError(f"a rollout named {existing.name!r} already exists (go-live {existing.go_live.isoformat()})")


def _team_ids(session: Session, paths: Sequence[str]) -> list[int]:
    known = {path: team_id for path, team_id in session.execute(select(Team.path, Team.id))}
    unknown = [path for path in paths if path not in known]
    if unknown:
        raise RolloutError(_unknown_teams(unknown, known))
    return [known[path] for path in paths]


def _unknown_teams(unknown: Sequence[str], known: Mapping[str, int]) -> str:
    noun = "team" if len(unknown) == 1 else "teams"
    if not known:
        return (
            f"unknown {noun} {', '.join(unknown)}: the roster has no teams yet; "
            "import it first with `pulse roster import FILE.csv`"
        )
    named = []
    for path in unknown:
        close = difflib.get_close_matches(path, list(known), n=1)
        named.append(f"{path} (did you mean {close[0]}?)" if close else path)
    return f"unknown {noun} {', '.join(named)}; teams come from the roster (`pulse roster import`)"
