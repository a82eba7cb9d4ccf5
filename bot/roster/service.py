"""The roster: people, teams (with parents), managers, council and levels, from a CSV and Slack.

An import is all or nothing: every row is checked, and resolved against Slack in one users.list
pass, before a single row is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload

from bot.progress import report as report_progress
from bot.calendars.days import check_country, check_reaches, parse_workdays, workdays_text
from bot.db import Database
from bot.i18n import N_
from bot.errors import NotEnrolled, RosterError
from bot.models import Manager, Person, Team
from bot.roster.directory import Directory, SlackUser, away_state
from bot.roster.paths import team_path
from bot.settings import AwayStatus, timezone_or_utc
from bot.weeks import now

COLUMNS = {"user_id", "email", "team", "manages", "level", "council", "country", "workdays"}
MAX_PROBLEMS = 20
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


class RosterInvalid(RosterError):
    """The file has problems; `problems` lists them, one `line N: …` each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"… and {len(problems) - MAX_PROBLEMS} more")
        noun = "error" if len(problems) == 1 else "errors"
        super().__init__(f"{source} has {len(problems)} {noun}; nothing was imported")
        self.problems = shown


@dataclass(frozen=True)
class RosterRow:
    line: int
    user_id: str | None
    email: str | None
    team: str
    manages: tuple[str, ...]
    level: str | None
    council: bool
    country: str | None = None  # whose public holidays are the person's days off
    workdays: str | None = None  # their working week, as workdays_text writes it (sun-thu)


def _row(line: int, record: dict[str, str], pulse_day: int | None) -> RosterRow:
    user_id = (record.get("user_id") or "").strip() or None
    email = (record.get("email") or "").strip().lower() or None
    if user_id is None and email is None:
        raise ValueError("needs a user_id or an email")
    if user_id is not None and not _USER_ID.match(user_id):
        raise ValueError(f"user_id {user_id!r} is not a Slack user id (like U012ABCDEF)")
    if email is not None and not _EMAIL.match(email):
        raise ValueError(f"email {email!r} is not an email address")
    team = team_path(record.get("team") or "", "team")
    manages = tuple(team_path(part, "manages") for part in (record.get("manages") or "").split(";") if part.strip())
    level = (record.get("level") or "").strip() or None
    if level is not None and len(level) > 40:
        raise ValueError("level is longer than 40 characters")
    council_text = (record.get("council") or "").strip().lower()
    if council_text not in ("", "yes", "no"):
        raise ValueError(f"council must be yes or no, not {record.get('council')!r}")
    country_text = (record.get("country") or "").strip()
    country = check_country(country_text) if country_text else None
    workdays_value = (record.get("workdays") or "").strip()
    workdays = None
    if workdays_value:
        days = parse_workdays(workdays_value)
        if pulse_day is not None:
            check_reaches(days, pulse_day, "workdays")
        workdays = workdays_text(days)
    return RosterRow(line, user_id, email, team, manages, level, council_text == "yes", country, workdays)


def parse_roster(text: str, *, source: str = "the roster", pulse_day: int | None = None) -> list[RosterRow]:
    """Check every row; raise RosterInvalid listing every problem with its line number.

    With `pulse_day`, a row whose working week ends before it (they would never be asked) is one."""
    text = text.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in (reader.fieldnames or []) if name is not None]
    if not header:
        raise RosterInvalid(source, ["line 1: the file is empty; it needs a header row"])
    reader.fieldnames = header
    problems = [f"line 1: unknown column {name!r}" for name in header if name not in COLUMNS]
    # DictReader would silently keep the last of two same-named columns.
    problems += [f"line 1: column {name!r} appears twice" for name in sorted({n for n in header if header.count(n) > 1})]
    if "team" not in header:
        problems.append("line 1: a team column is required")
    if "user_id" not in header and "email" not in header:
        problems.append("line 1: a user_id or an email column is required")
    if problems:
        raise RosterInvalid(source, problems)
    rows: list[RosterRow] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if None in record:
            problems.append(f"line {line}: more values than columns")
            continue
        if not any((value or "").strip() for value in record.values()):
            continue
        try:
            row = _row(line, record, pulse_day)
        except ValueError as error:
            problems.append(f"line {line}: {error}")
            continue
        for identity in filter(None, (row.user_id, row.email)):
            if identity in seen:
                problems.append(f"line {line}: {identity} is already on line {seen[identity]}")
            seen.setdefault(identity, line)
        rows.append(row)
    if not rows and not problems:
        problems.append("line 2: the file has a header but no people")
    if problems:
        raise RosterInvalid(source, problems)
    return rows


@dataclass(frozen=True)
class RosterImport:
    people: int
    added: int
    updated: int
    deactivated: int
    teams_created: int
    dry_run: bool
    followed_groups: int = 0  # listed, but placed by Slack user groups, which the behaviour file prefers

    def summary(self) -> str:
        verb = "Dry run: would import" if self.dry_run else "Imported"
        text = (
            f"{verb} {self.people} people ({self.added} new, {self.updated} updated, "
            f"{self.deactivated} deactivated); {self.teams_created} new teams"
        )
        if self.followed_groups:
            text += f"; {self.followed_groups} more follow their Slack user groups and were left as they are"
        return text + "."


def _resolve(rows: list[RosterRow], directory: Directory, source: str) -> list[tuple[RosterRow, SlackUser]]:
    by_id: dict[str, SlackUser] = {}
    by_email: dict[str, SlackUser] = {}
    for known in directory.all_users():
        by_id[known.user_id] = known
        if known.email:
            by_email[known.email.lower()] = known
        if len(by_id) % 200 == 0:  # a page of users.list
            report_progress("Slack users read", len(by_id))
    resolved: list[tuple[RosterRow, SlackUser]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for row in rows:
        user = by_id.get(row.user_id) if row.user_id else by_email.get(row.email or "")
        who = row.user_id or row.email
        if user is None:
            problems.append(f"line {row.line}: Slack has no user {who}")
        elif user.deleted:
            problems.append(f"line {row.line}: {who} is deactivated in Slack")
        elif user.is_bot:
            problems.append(f"line {row.line}: {who} is a bot, not a person")
        elif user.user_id in seen:
            problems.append(f"line {row.line}: {who} is the same person as line {seen[user.user_id]}")
        else:
            seen[user.user_id] = row.line
            resolved.append((row, user))
    if problems:
        raise RosterInvalid(source, problems)
    return resolved


def ensure_teams(session: Session, paths: Iterable[str]) -> tuple[dict[str, int], list[str]]:
    """Team ids by path, creating each path and its ancestors; returns (ids, the paths created)."""
    ids = {team.path: team.id for team in session.scalars(select(Team))}
    created: list[str] = []
    for path in sorted(set(paths), key=lambda p: (p.count("/"), p)):
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub in ids:
                continue
            team = Team(path=sub, name=parts[depth - 1], parent_id=ids.get("/".join(parts[: depth - 1])))
            session.add(team)
            session.flush()
            ids[sub] = team.id
            created.append(sub)
    return ids, created


def import_roster(
    db: Database,
    rows: list[RosterRow],
    directory: Directory,
    *,
    away: AwayStatus,
    dry_run: bool = False,
    at: dt.datetime | None = None,
    source: str = "the roster",
    groups_win: bool = False,
) -> RosterImport:
    """Place everyone in the file and deactivate the people an earlier import placed who are not in it.

    People the Slack user-group sync placed are left to it when `groups_win` (the behaviour file's
    roster source is usergroups); otherwise a row takes them over.
    """
    at = at or now()
    resolved = _resolve(rows, directory, source)
    with db.session() as session:
        existing = {p.slack_user_id: p for p in session.scalars(select(Person))}
        team_ids, teams_created = ensure_teams(session, [p for row in rows for p in (row.team, *row.manages)])
        added = updated = followed = 0
        applied: list[tuple[RosterRow, SlackUser]] = []
        for row, user in resolved:
            person = existing.get(user.user_id)
            if groups_win and person is not None and person.active and person.roster_source == "usergroups":
                followed += 1
                continue
            applied.append((row, user))
            if person is None:
                person = Person(slack_user_id=user.user_id)
                session.add(person)
                added += 1
            else:
                updated += 1
            is_away, away_until = away_state(user, away, at)
            person.email = user.email or row.email
            person.team_id = team_ids[row.team]
            person.level = row.level
            person.is_council = row.council
            person.country, person.workdays = row.country, row.workdays
            person.tz = timezone_or_utc(user.tz)
            person.locale = user.locale or person.locale
            person.active = True
            person.away, person.away_until = is_away, away_until
            person.roster_source = "csv"
        session.flush()
        listed = {user.user_id for _, user in resolved}
        # The user-group sync deactivates the people it placed; an import only those it placed.
        leaving = [p.id for uid, p in existing.items() if uid not in listed and p.active and p.roster_source == "csv"]
        if leaving:
            session.execute(update(Person).where(Person.id.in_(leaving)).values(active=False))
        placed_by_csv = select(Person.id).where(Person.roster_source == "csv")
        session.execute(delete(Manager).where(Manager.person_id.in_(placed_by_csv)))
        person_ids = {row.slack_user_id: row.id for row in session.execute(select(Person.slack_user_id, Person.id))}
        session.add_all(
            Manager(person_id=person_ids[user.user_id], team_id=team_ids[path])
            for row, user in applied
            for path in set(row.manages)
        )
        result = RosterImport(len(applied), added, updated, len(leaving), len(teams_created), dry_run, followed)
        if dry_run:
            session.rollback()
    return result


def import_roster_file(
    db: Database,
    path: Path,
    directory: Directory,
    *,
    away: AwayStatus,
    dry_run: bool = False,
    groups_win: bool = False,
    pulse_day: int | None = None,
) -> RosterImport:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RosterError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    except OSError as error:
        raise RosterError(f"{path}: cannot read it: {error.strerror}") from None
    rows = parse_roster(text, source=path.name, pulse_day=pulse_day)
    return import_roster(db, rows, directory, away=away, dry_run=dry_run, source=path.name, groups_win=groups_win)


@dataclass(frozen=True)
class RosterSync:
    checked: int
    changed: int
    deactivated: int
    dry_run: bool = False

    def summary(self) -> str:
        verb = "Dry run: would sync" if self.dry_run else "Synced"
        return f"{verb} {self.checked} people with Slack: {self.changed} updated, {self.deactivated} deactivated."

    def lines(self) -> list[str]:
        return [self.summary()]


def refresh_from_slack(person: Person, user: SlackUser, away: AwayStatus, at: dt.datetime) -> bool:
    """Take the person's time zone, locale, away status and deactivation from Slack; whether any
    of these but the locale changed (a locale is no roster change to report). A profile without
    a locale (events carry none) leaves the one known."""
    before = (person.tz, person.away, person.away_until, person.active)
    person.tz = timezone_or_utc(user.tz) if user.tz else person.tz
    person.locale = user.locale or person.locale
    person.away, person.away_until = away_state(user, away, at)
    if user.deleted:
        person.active = False
    return before != (person.tz, person.away, person.away_until, person.active)


def sync_roster(
    db: Database, directory: Directory, *, away: AwayStatus, dry_run: bool = False, at: dt.datetime | None = None
) -> RosterSync:
    """Refresh time zones, away statuses and deactivations for people already on the roster."""
    at = at or now()
    users = {user.user_id: user for user in directory.all_users()}
    with db.session() as session:
        people = session.scalars(select(Person).where(Person.active.is_(True))).all()
        changed, left = refresh_everyone(people, users, away, at)
        result = RosterSync(len(people), changed, len(left), dry_run)
        if dry_run:
            session.rollback()
    return result


def refresh_everyone(
    people: Iterable[Person], users: dict[str, SlackUser], away: AwayStatus, at: dt.datetime
) -> tuple[int, list[str]]:
    """Refresh each active person from Slack; deactivate those Slack no longer has or has deactivated.

    Returns how many changed otherwise, and the user ids deactivated.
    """
    changed = 0
    left: list[str] = []
    for person in people:
        user = users.get(person.slack_user_id)
        if user is None or user.deleted:
            person.active = False
            left.append(person.slack_user_id)
        elif refresh_from_slack(person, user, away, at):
            changed += 1
    return changed, left


def apply_slack_user(db: Database, user: SlackUser, *, away: AwayStatus, at: dt.datetime | None = None) -> bool:
    """Update one person from a Slack profile change; people not on the roster are ignored."""
    at = at or now()
    with db.session() as session:
        person = session.scalar(select(Person).where(Person.slack_user_id == user.user_id))
        if person is None:
            return False
        return refresh_from_slack(person, user, away, at)


def enrolled_person(session: Session, user_id: str) -> Person:
    """The active person behind a Slack user id: every feature's one rule for who may take part."""
    # The team comes with the person: the week's roster snapshot records its path.
    person = session.scalar(select(Person).options(joinedload(Person.team)).where(Person.slack_user_id == user_id))
    if person is None or not person.active:
        raise NotEnrolled(N_("You are not enrolled in Rollout Pulse. Ask your admin to add you to the roster."))
    return person
