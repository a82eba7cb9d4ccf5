"""`pulse roster sync`, by hand or once a day on the clock.

With teams mapped to Slack user groups it is the user-group sync (bot/roster/usergroups.py);
without, it refreshes time zones, away statuses and deactivations for the CSV's roster. On the
clock the day is claimed first, so it runs once a day however often the clock ticks or how many
clocks there are.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import and_, or_, update

from bot.db import Database, conflict_insert
from bot.errors import RosterError
from bot.models import RosterSyncRun
from bot.roster.directory import Directory
from bot.roster.service import RosterSync, sync_roster
from bot.roster.usergroups import GroupDirectory, GroupSync, MappingRefused, sync_with_groups
from bot.settings import Behaviour
from bot.weeks import UTC, now

log = logging.getLogger(__name__)

RETRY_FAILED_AFTER = dt.timedelta(hours=1)
# A run that died half-way wrote nothing (one transaction); it is taken over once clearly dead.
TAKE_OVER_RUNNING_AFTER = dt.timedelta(hours=6)


def sync_from_slack(
    db: Database,
    directory: Directory,
    groups: GroupDirectory,
    behaviour: Behaviour,
    *,
    dry_run: bool = False,
    at: dt.datetime | None = None,
) -> RosterSync | GroupSync:
    if behaviour.roster.from_usergroups:
        return sync_with_groups(
            db, directory, groups, behaviour.roster, away=behaviour.away_status, dry_run=dry_run, at=at
        )
    return sync_roster(db, directory, away=behaviour.away_status, dry_run=dry_run, at=at)


@dataclass(frozen=True)
class RosterJobRun:
    outcome: str
    ok: bool = True  # False: the sync was refused or failed, so `pulse jobs run roster` exits 1

    def summary(self) -> str:
        return self.outcome


def _claim(db: Database, day: dt.date, at: dt.datetime) -> tuple[bool, RosterSyncRun | None]:
    """Claim the day's sync: (True, None), or (False, the day's record: done, refused, running, failed)."""
    with db.session() as session:
        claimed = session.execute(
            conflict_insert(session, RosterSyncRun)
            .values(day=day, status="running", claimed_at=at)
            .on_conflict_do_nothing(index_elements=["day"])
            .returning(RosterSyncRun.day)
        ).scalar()
        if claimed is not None:
            return True, None
        again = session.execute(
            update(RosterSyncRun)
            .where(
                RosterSyncRun.day == day,
                or_(
                    and_(RosterSyncRun.status == "failed", RosterSyncRun.claimed_at <= at - RETRY_FAILED_AFTER),
                    and_(RosterSyncRun.status == "running", RosterSyncRun.claimed_at <= at - TAKE_OVER_RUNNING_AFTER),
                ),
            )
            .values(status="running", claimed_at=at, finished_at=None, error=None)
            .returning(RosterSyncRun.day)
        ).scalar()
        if again is not None:
            return True, None
        return False, session.get(RosterSyncRun, day)


def _why_not(run: RosterSyncRun | None) -> str:
    if run is None or run.status == "done":
        return "roster: already synced today"
    if run.status == "refused":
        return "roster: refused today (the user-group mapping does not match Slack); fix it and run `pulse roster sync`"
    if run.status == "failed":
        retry = (run.claimed_at + RETRY_FAILED_AFTER).astimezone(UTC)
        return f"roster: today's sync failed; tried again from {retry:%H:%M} UTC"
    return "roster: another clock is syncing"


def _record(db: Database, day: dt.date, status: str, at: dt.datetime, error: str | None = None) -> None:
    with db.session() as session:
        session.execute(
            update(RosterSyncRun)
            .where(RosterSyncRun.day == day)
            .values(status=status, finished_at=at, error=error[:200] if error else None)
        )


def run_roster_job(
    db: Database,
    directory: Directory,
    groups: GroupDirectory,
    behaviour: Behaviour,
    *,
    at: dt.datetime | None = None,
    force: bool = False,
) -> RosterJobRun:
    """Sync the roster with Slack once a day, from `roster.sync_time` (UTC) on; `force` ignores the time."""
    at = at or now()
    day = at.astimezone(UTC).date()
    due = dt.datetime.combine(day, behaviour.roster.sync_time, tzinfo=UTC)
    if not force and at < due:
        return RosterJobRun("roster: not due yet today")
    claimed, taken = _claim(db, day, at)
    if not claimed:
        return RosterJobRun(_why_not(taken))
    try:
        result = sync_from_slack(db, directory, groups, behaviour, at=at)
    except MappingRefused as refused:
        for problem in refused.problems:
            log.warning("roster.mapping_problem problem=%s", problem)
        _record(db, day, "refused", now(), str(refused))
        return RosterJobRun(f"roster: refused: {refused}", ok=False)
    except RosterError as error:
        _record(db, day, "failed", now(), str(error))
        return RosterJobRun(f"roster: failed, to be tried again in an hour: {error}", ok=False)
    except Exception as error:
        _record(db, day, "failed", now(), f"{type(error).__name__}")
        raise
    if isinstance(result, GroupSync):
        for problem in result.problems:
            log.warning("roster.not_synced problem=%s", problem)
    _record(db, day, "done", now())
    return RosterJobRun(result.summary() if isinstance(result, GroupSync) else f"roster: {result.summary()}")
