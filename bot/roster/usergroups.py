"""The roster from Slack user groups: each mapped team's members, its managers, and the council.

The behaviour file maps team paths to user-group handles (`roster.teams`, `roster.council`).
A sync reads every mapped group, decides where each person belongs, and changes the roster in
one transaction:

- A person in a team's members group is placed in that team; in the groups of a team and of one
  of its sub-teams, in the sub-team. Their managers and council flags follow the managers and
  council groups; their level follows the profile field `roster.level_field`, when it is set.
- People the sync placed who are in no mapped members group any more are deactivated; people the
  CSV placed are the CSV import's to deactivate. A person both list follows `roster.source`.
- A mapping Slack does not match (a handle no group has, a disabled group, a level field the
  workspace does not have) refuses the whole sync: going ahead would deactivate everyone in that
  group. A person the groups contradict (in the members groups of two teams where neither
  contains the other, or in a managers or council group but no members group) is reported and
  left as they were; everyone else is synced.

Moves change `people` only. Each week's snapshot (bot/release/snapshot.py) has already placed
everyone in the open week, so a move shows from the next week's snapshot on, and released weeks
never change.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.progress import report as report_progress
from bot.db import Database
from bot.errors import RosterError
from bot.models import Manager, Person, Team
from bot.roster.directory import Directory, SlackUser, away_state
from bot.roster.paths import contains
from bot.roster.service import ensure_teams, refresh_everyone
from bot.settings import AwayStatus, RosterSettings, timezone_or_utc
from bot.weeks import now

log = logging.getLogger(__name__)

MAX_LEVEL = 40
NAMES_PER_LINE = 20


@dataclass(frozen=True)
class UserGroup:
    id: str
    handle: str
    disabled: bool


class GroupDirectory(Protocol):
    """The port Slack's user groups and profile fields are read through."""

    def user_groups(self) -> Iterable[UserGroup]: ...

    def group_members(self, group_id: str) -> Iterable[str]: ...

    def profile_field_ids(self) -> set[str]: ...

    def profile_field(self, user_id: str, field_id: str) -> str | None: ...


class MappingRefused(RosterError):
    """The behaviour file's user-group mapping does not match Slack; `problems` says how, one line each."""

    def __init__(self, problems: list[str]) -> None:
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"the user-group mapping has {len(problems)} {noun}; nothing was changed")
        self.problems = problems


# ---------------------------------------------------------------- what the groups say


@dataclass(frozen=True)
class Membership:
    """One person's place in the mapped groups: (handle, team path) pairs, and the council."""

    teams: tuple[tuple[str, str], ...] = ()
    manages: tuple[tuple[str, str], ...] = ()
    council: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupFacts:
    groups: int
    people: dict[str, Membership]


def _uses(mapping: RosterSettings) -> dict[str, list[str]]:
    uses: dict[str, list[str]] = defaultdict(list)
    for path, groups in mapping.teams.items():
        for handle in groups.members:
            uses[handle].append(f"members of {path}")
        for handle in groups.managers:
            uses[handle].append(f"managers of {path}")
    for handle in mapping.council:
        uses[handle].append("the council")
    return uses


def read_groups(mapping: RosterSettings, groups: GroupDirectory) -> GroupFacts:
    """Resolve every mapped handle and read its members; MappingRefused if Slack does not match."""
    uses = _uses(mapping)
    found: dict[str, UserGroup] = {}
    for group in groups.user_groups():
        handle = group.handle.lower()
        if handle in uses and (handle not in found or found[handle].disabled):
            found[handle] = group
    problems: list[str] = []
    for handle, used in uses.items():
        resolved = found.get(handle)
        where = f"@{handle} ({', '.join(used)})"
        if resolved is None:
            problems.append(f"{where}: Slack has no user group with this handle")
        elif resolved.disabled:
            problems.append(f"{where}: this user group is disabled in Slack")
    if mapping.level_field is not None and mapping.level_field not in groups.profile_field_ids():
        problems.append(f"level_field {mapping.level_field}: this workspace has no profile field with that id")
    if problems:
        raise MappingRefused(problems)
    members = {handle: set(groups.group_members(found[handle].id)) for handle in uses}
    teams: dict[str, list[tuple[str, str]]] = defaultdict(list)
    manages: dict[str, list[tuple[str, str]]] = defaultdict(list)
    council: dict[str, list[str]] = defaultdict(list)
    for path, team_groups in mapping.teams.items():
        for handle in team_groups.members:
            for user_id in members[handle]:
                teams[user_id].append((handle, path))
        for handle in team_groups.managers:
            for user_id in members[handle]:
                manages[user_id].append((handle, path))
    for handle in mapping.council:
        for user_id in members[handle]:
            council[user_id].append(handle)
    people = {
        user_id: Membership(tuple(sorted(teams[user_id])), tuple(sorted(manages[user_id])), tuple(council[user_id]))
        for user_id in {*teams, *manages, *council}
    }
    return GroupFacts(len(uses), people)


# ---------------------------------------------------------------- where each person belongs


@dataclass(frozen=True)
class OnRoster:
    """What the roster holds about a person, as the decision needs it."""

    active: bool
    source: str


@dataclass(frozen=True)
class Placement:
    user: SlackUser
    team: str
    manages: frozenset[str]
    council: bool


@dataclass
class Decision:
    placed: dict[str, Placement] = field(default_factory=dict)
    kept_by_csv: list[str] = field(default_factory=list)
    left_alone: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def _deepest(paths: set[str]) -> list[str]:
    """The paths none of the others lies under: a team and its sub-team give the sub-team."""
    return sorted(p for p in paths if not any(q != p and contains(p, q) for q in paths))


def decide(
    facts: GroupFacts,
    users: Mapping[str, SlackUser],
    roster: Mapping[str, OnRoster],
    mapping: RosterSettings,
    only: set[str] | None = None,
) -> Decision:
    """Where the groups place each person, given who the CSV placed. Pure: no Slack, no database."""
    decision = Decision()
    for user_id, member in sorted(facts.people.items()):
        user = users.get(user_id)
        if (only is not None and user_id not in only) or user is None or user.deleted or user.is_bot:
            continue  # not someone who can take part; a deactivated account is deactivated anyway
        on = roster.get(user_id)
        placed_by_csv = on is not None and on.active and on.source == "csv"
        if placed_by_csv and not mapping.groups_win:
            if member.teams:
                decision.kept_by_csv.append(user.label)
            continue
        teams = _deepest({path for _, path in member.teams})
        if not teams:
            roles = [f"@{h} (managers of {p})" for h, p in member.manages] + [f"@{h} (the council)" for h in member.council]
            decision.problems.append(
                f"{user.label} is in {', '.join(roles)} but in no mapped team's members group; left as they were"
            )
            decision.left_alone.add(user_id)
            continue
        if len(teams) > 1:
            groups = [f"@{h} ({p})" for h, p in member.teams if p in teams]
            decision.problems.append(
                f"{user.label} is in {' and '.join(groups)}, teams where neither contains the other; left as they were"
            )
            decision.left_alone.add(user_id)
            continue
        decision.placed[user_id] = Placement(
            user, teams[0], frozenset(p for _, p in member.manages), bool(member.council)
        )
    return decision


def read_levels(decision: Decision, mapping: RosterSettings, groups: GroupDirectory) -> dict[str, str | None] | None:
    """Each placed person's level from their profile field (None: no field configured)."""
    if mapping.level_field is None:
        return None
    placed = sorted(decision.placed)
    levels: dict[str, str | None] = {}
    for user_id in placed:  # one profile read each, at Slack's pace: most of an hour for thousands
        levels[user_id] = groups.profile_field(user_id, mapping.level_field)
        report_progress("profiles read for levels", len(levels), len(placed))
    return levels


# ---------------------------------------------------------------- what changed


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:NAMES_PER_LINE])
    more = len(items) - NAMES_PER_LINE
    return shown + (f" … and {more:,} more" if more > 0 else "")


@dataclass
class GroupSync:
    """What a user-group sync changed (or, in a dry run, would change), kind by kind."""

    people: int = 0
    groups: int = 0
    dry_run: bool = False
    added: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    joined_council: list[str] = field(default_factory=list)
    left_council: list[str] = field(default_factory=list)
    managers: list[str] = field(default_factory=list)
    from_csv: list[str] = field(default_factory=list)
    kept_by_csv: list[str] = field(default_factory=list)
    new_teams: list[str] = field(default_factory=list)
    refreshed: int = 0
    problems: list[str] = field(default_factory=list)

    def _kinds(self) -> list[tuple[str, list[str]]]:
        return [
            ("Added", self.added),
            ("Moved", self.moved),
            ("Deactivated", self.deactivated),
            ("Level changed", self.levels),
            ("Joined the council", self.joined_council),
            ("Left the council", self.left_council),
            ("Managers changed", self.managers),
            ("Now placed by user groups instead of the CSV", self.from_csv),
            ("Kept as the CSV places them", self.kept_by_csv),
            ("New teams", self.new_teams),
        ]

    def lines(self) -> list[str]:
        """What `pulse roster sync` prints: a heading, then one line per kind of change, with names."""
        heading = f"{self.people:,} people in {self.groups} mapped Slack user groups"
        lines = [f"Dry run, nothing was changed: {heading}." if self.dry_run else f"Synced {heading}."]
        lines += [f"{kind} {len(items):,}: {_names(items)}" for kind, items in self._kinds() if items]
        if self.refreshed:
            lines.append(f"Time zone or away status updated {self.refreshed:,}")
        lines += [f"Not synced: {problem}" for problem in self.problems]
        if len(lines) == 1:
            lines.append("No changes.")
        return lines

    def summary(self) -> str:
        """One line of counts, for the clock's log."""
        counts = [f"{kind[0].lower()}{kind[1:]} {len(items)}" for kind, items in self._kinds() if items]
        counts += [f"time zone or away status updated {self.refreshed}"] if self.refreshed else []
        counts += [f"not synced {len(self.problems)}"] if self.problems else []
        verb = "dry run" if self.dry_run else "synced"
        return f"roster {verb}: {self.people} people in {self.groups} groups; " + (", ".join(counts) or "no changes")


# ---------------------------------------------------------------- applying it


def _roster(session: Session) -> dict[str, OnRoster]:
    rows = session.execute(select(Person.slack_user_id, Person.active, Person.roster_source))
    return {user_id: OnRoster(active, source) for user_id, active, source in rows}


def _level(value: str | None) -> str | None:
    return (value or "").strip() or None


def _apply(
    session: Session,
    decision: Decision,
    levels: dict[str, str | None] | None,
    users: Mapping[str, SlackUser],
    result: GroupSync,
    *,
    away: AwayStatus,
    at: dt.datetime,
    whole_roster: bool,
) -> None:
    existing = {p.slack_user_id: p for p in session.scalars(select(Person))}
    if whole_roster:
        active = [p for p in existing.values() if p.active]
        result.refreshed, left = refresh_everyone(active, dict(users), away, at)
        result.deactivated += [users[uid].label if uid in users else uid for uid in left]
    needed = [p for placement in decision.placed.values() for p in (placement.team, *placement.manages)]
    team_ids, result.new_teams = ensure_teams(session, needed)
    paths = {team_id: path for path, team_id in team_ids.items()}
    managed: dict[int, set[str]] = defaultdict(set)
    for person_id, path in session.execute(select(Manager.person_id, Team.path).join(Team, Team.id == Manager.team_id)):
        managed[person_id].add(path)
    for user_id, placement in sorted(decision.placed.items()):
        _place(session, existing.get(user_id), placement, levels, managed, team_ids, paths, result, away=away, at=at)
    if whole_roster:
        for user_id, person in sorted(existing.items()):
            if person.active and person.roster_source == "usergroups" and user_id not in decision.placed.keys() | decision.left_alone:
                person.active = False
                session.execute(delete(Manager).where(Manager.person_id == person.id))
                result.deactivated.append(users[user_id].label if user_id in users else user_id)
    result.people = len(decision.placed)
    result.kept_by_csv = list(decision.kept_by_csv)
    result.problems += decision.problems


def _place(
    session: Session,
    person: Person | None,
    placement: Placement,
    levels: dict[str, str | None] | None,
    managed: dict[int, set[str]],
    team_ids: dict[str, int],
    paths: dict[int, str],
    result: GroupSync,
    *,
    away: AwayStatus,
    at: dt.datetime,
) -> None:
    user = placement.user
    label = user.label
    joining = person is None or not person.active
    if person is None:
        person = Person(slack_user_id=user.user_id, team_id=team_ids[placement.team], is_council=False, level=None)
        session.add(person)
    if joining:
        result.added.append(f"{label} to {placement.team}")
        person.tz = timezone_or_utc(user.tz)
        person.away, person.away_until = away_state(user, away, at)
    else:
        if person.roster_source == "csv":
            result.from_csv.append(label)
        if person.team_id != team_ids[placement.team]:
            result.moved.append(f"{label} {paths.get(person.team_id, '?')} → {placement.team}")
    person.team_id = team_ids[placement.team]
    person.email = user.email or person.email
    person.locale = user.locale or person.locale
    person.active = True
    person.roster_source = "usergroups"
    if levels is not None and user.user_id in levels:
        level = _level(levels[user.user_id])
        if level is not None and len(level) > MAX_LEVEL:
            result.problems.append(f"{label}'s level is longer than {MAX_LEVEL} characters; their level was left as it was")
        else:
            if not joining and level != person.level:
                result.levels.append(f"{label} {person.level or '(none)'} → {level or '(none)'}")
            person.level = level
    if placement.council != bool(person.is_council):
        (result.joined_council if placement.council else result.left_council).append(label)
        person.is_council = placement.council
    if person.id is None:
        session.flush()  # a new person's id, for their manager rows
    before = managed.get(person.id, set())
    if before != placement.manages:
        now_managing = sorted(placement.manages - before)
        stopped = sorted(before - placement.manages)
        parts = [f"now manages {', '.join(now_managing)}"] if now_managing else []
        parts += [f"no longer manages {', '.join(stopped)}"] if stopped else []
        result.managers.append(f"{label} {'; '.join(parts)}")
        session.execute(delete(Manager).where(Manager.person_id == person.id))
        session.add_all(Manager(person_id=person.id, team_id=team_ids[path]) for path in sorted(placement.manages))


def _write(
    db: Database,
    facts: GroupFacts,
    users: Mapping[str, SlackUser],
    levels: dict[str, str | None] | None,
    mapping: RosterSettings,
    *,
    away: AwayStatus,
    dry_run: bool,
    at: dt.datetime,
    only: set[str] | None,
) -> GroupSync:
    # A new hire's event can place someone between this sync's read and its write; the second
    # attempt starts from what is there then.
    for attempt in (1, 2):
        try:
            with db.session() as session:
                decision = decide(facts, users, _roster(session), mapping, only)
                result = GroupSync(groups=facts.groups, dry_run=dry_run)
                _apply(session, decision, levels, users, result, away=away, at=at, whole_roster=only is None)
                if dry_run:
                    session.rollback()
            return result
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def sync_with_groups(
    db: Database,
    directory: Directory,
    groups: GroupDirectory,
    mapping: RosterSettings,
    *,
    away: AwayStatus,
    dry_run: bool = False,
    at: dt.datetime | None = None,
) -> GroupSync:
    """Bring the roster in line with the mapped user groups; also refresh everyone from Slack as
    `sync_roster` does. Slack is read in full before anything is written."""
    at = at or now()
    users = {user.user_id: user for user in directory.all_users()}
    facts = read_groups(mapping, groups)
    with db.session() as session:
        decision = decide(facts, users, _roster(session), mapping)
    levels = read_levels(decision, mapping, groups)
    return _write(db, facts, users, levels, mapping, away=away, dry_run=dry_run, at=at, only=None)


def enrol_new_member(
    db: Database,
    user: SlackUser,
    groups: GroupDirectory,
    mapping: RosterSettings,
    *,
    away: AwayStatus,
    at: dt.datetime | None = None,
) -> str:
    """A new Slack member, the day they join: placed if the mapped groups place them. Says what happened."""
    if not mapping.from_usergroups:
        return "not recorded: the roster comes from the CSV"
    if user.deleted or user.is_bot:
        return "not recorded: not a person who can take part"
    at = at or now()
    facts = read_groups(mapping, groups)
    users = {user.user_id: user}
    with db.session() as session:
        decision = decide(facts, users, _roster(session), mapping, {user.user_id})
    if user.user_id not in decision.placed:
        if decision.kept_by_csv:
            return "not recorded: the CSV places them"
        if decision.problems:
            return "not recorded: " + "; ".join(decision.problems)
        return "not recorded: in no mapped user group yet (the daily sync places them once they are)"
    levels = read_levels(decision, mapping, groups)
    result = _write(db, facts, users, levels, mapping, away=away, dry_run=False, at=at, only={user.user_id})
    if result.added:
        return f"added to {decision.placed[user.user_id].team}"
    return "already on the roster"
