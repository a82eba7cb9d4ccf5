"""When a weekly DM is due, and who may get one, and how it is sent once: the rules every
scheduled fan-out shares.

The pulse and the explainers both arrive at a local day and time in each person's own time zone,
only on workdays of their own calendar (bot/calendars/) and within working hours, never while
they are paused or away. They
and the reminders claim deliveries in batches and record what happened; the driver for that
lives here too, so the fan-outs cannot drift apart.

Exactly once, through crashes and a second scheduler: a delivery is claimed in the database
('sending', with the claim time) before its DM is sent, and marked 'sent' after. Claims are taken
with FOR UPDATE SKIP LOCKED on PostgreSQL, and on either database the UPDATE that takes them
checks again that they are free, so two schedulers split a fan-out rather than repeat it. A claim
still 'sending' after CLAIM_LEASE belongs to a run that died between the two steps (or one that
Slack failed mid-send): before its DM is sent again, the person's DM history is searched for the
message metadata that names the delivery, and a DM that did go out is only marked sent.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Row, Select, Update, and_, bindparam, or_, update
from sqlalchemy.sql.elements import ColumnElement

from bot.calendars.people import Cohort, DueCohorts, PeopleCalendars
from bot.db import Database
from bot.messenger import DeliveryFailed, DeliveryKind, MessageRef, Messenger
from bot.models import Delivery, ExplainerDelivery, Person
from bot.settings import Schedule
from bot.weeks import IsoWeek, local_instant, local_now, now

log = logging.getLogger(__name__)

CLAIM_BATCH = 200
# DMs in flight at once: sending is bound by Slack's round trip, not by our CPU.
SEND_WORKERS = 8
# A claim older than this belongs to a run that died mid-send; its delivery is queued again.
CLAIM_LEASE = dt.timedelta(minutes=10)

DeliveryTable = type[Delivery] | type[ExplainerDelivery]


def due_weeks(
    calendars: PeopleCalendars,
    cohorts: Iterable[Cohort],
    schedule: Schedule,
    send_day: int,
    send_time: dt.time,
    at: dt.datetime,
    *,
    force: bool,
    week: IsoWeek | None,
) -> dict[IsoWeek, DueCohorts]:
    """For each ISO week, the cohorts for whom a DM sent on `send_day` at `send_time` is due now.

    Due means: the person's local date is a workday of their calendar in that week, on or after
    the send day, their local clock has passed the send time, and it is not yet evening (late DMs
    wait for the next workday morning). So a send day that is their weekend or a public holiday
    moves to their next workday of the week, and a week whose rest is off sends them nothing.
    `force` ignores the day and time, never a day off.
    """
    due: dict[IsoWeek, set[Cohort]] = defaultdict(set)
    for cohort in cohorts:
        local = local_now(cohort.tz, at)
        local_week = IsoWeek.of(local.date())
        target = week or local_week
        if not cohort.calendar.is_workday(local.date()):
            continue
        if not force:
            if target != local_week:
                continue
            if local < local_instant(cohort.tz, target.day(send_day), send_time):
                continue
            if not within_sending_hours(schedule, local, send_time):
                continue
        due[target].add(cohort)
    return {target: DueCohorts(calendars, frozenset(found)) for target, found in due.items()}


def may_send_now(cohort: Cohort, schedule: Schedule, start: dt.time, at: dt.datetime) -> bool:
    """A workday of the cohort's calendar where they are, between `start` and latest_time."""
    local = local_now(cohort.tz, at)
    return cohort.calendar.is_workday(local.date()) and within_sending_hours(schedule, local, start)


def within_sending_hours(schedule: Schedule, local: dt.datetime, start: dt.time) -> bool:
    return start <= local.time() < schedule.latest_time


def not_paused(at: dt.datetime) -> ColumnElement[bool]:
    return or_(Person.paused_until.is_(None), Person.paused_until < at.date())


def not_away(at: dt.datetime) -> ColumnElement[bool]:
    return or_(Person.away.is_(False), and_(Person.away_until.is_not(None), Person.away_until <= at))


def claimable(table: DeliveryTable, claim_time: dt.datetime) -> ColumnElement[bool]:
    """Queued, or claimed by a run that has since died (its lease ran out)."""
    return or_(
        table.status == "queued",
        and_(table.status == "sending", table.claimed_at < claim_time - CLAIM_LEASE),
    )


def claim_rows(db: Database, table: DeliveryTable, query: Select[*tuple[Any, ...]]) -> tuple[dt.datetime, list[Row[*tuple[Any, ...]]]]:
    """Claim the next batch of deliveries `query` selects; return the claim time and the rows.

    `query` selects the table's id, status and claimed_at (the state before this claim) and
    whatever the sender needs. The UPDATE checks again that each row is still claimable: on
    PostgreSQL the rows are locked already (SKIP LOCKED passes over another run's batch), and on
    SQLite, where the SELECT takes no lock, the write lock makes the UPDATE the arbiter between
    two runs that selected the same rows; the loser selects again.
    """
    while True:
        claim_time = now()
        with db.session() as session:
            rows = session.execute(
                query.where(claimable(table, claim_time))
                .order_by(table.id)
                .limit(CLAIM_BATCH)
                .with_for_update(of=table, skip_locked=True)
            ).all()
            if not rows:
                return claim_time, []
            taken = set(
                session.execute(
                    update(table)
                    .where(table.id.in_([row.id for row in rows]), claimable(table, claim_time))
                    .values(status="sending", claimed_at=claim_time)
                    .returning(table.id)
                ).scalars()
            )
        if taken:
            return claim_time, [row for row in rows if row.id in taken]


@dataclass(frozen=True)
class Claim:
    """A delivery this run has taken. `taken_over` is when a run that died had claimed it."""

    delivery_id: int
    user_id: str
    taken_over: dt.datetime | None


def taken_over(row: Row[*tuple[Any, ...]]) -> dt.datetime | None:
    """The claim time of the run that died, when the row claimed was still 'sending'."""
    return row.claimed_at if row.status == "sending" else None


ClaimT = TypeVar("ClaimT", bound=Claim)
ClaimContraT = TypeVar("ClaimContraT", bound=Claim, contravariant=True)


class FanOutRun(Protocol):
    sent: int
    recovered: int
    failed: int
    stopped: str | None


class Ledger(Protocol[ClaimContraT]):
    """Where a fan-out records what became of each claim."""

    def sent(self, claim: ClaimContraT, ref: MessageRef) -> None: ...

    def failed(self, claim: ClaimContraT, reason: str) -> None: ...

    def look_first(self, claim: ClaimContraT) -> None:
        """Slack failed while this DM was being sent, so it may have gone out: leave the claim for
        the next run to take over, which looks in the DM before sending."""

    def release(self, claims: Sequence[ClaimContraT]) -> None:
        """Give claims not yet tried back for the next run."""


@dataclass(frozen=True)
class StatusLedger:
    """Deliveries whose `status` column records the claim: pulses and explainers."""

    db: Database
    table: DeliveryTable
    at: dt.datetime

    def sent(self, claim: Claim, ref: MessageRef) -> None:
        mark(self.db, self.table, claim.delivery_id, status="sent", channel_id=ref.channel, message_ts=ref.ts, sent_at=self.at)

    def failed(self, claim: Claim, reason: str) -> None:
        mark(self.db, self.table, claim.delivery_id, status="failed", error=reason[:100])

    def look_first(self, claim: Claim) -> None:
        mark(self.db, self.table, claim.delivery_id, status="sending", claimed_at=claim.taken_over or expired_claim())

    def release(self, claims: Sequence[Claim]) -> None:
        # A claim taken over from a run that died stays as that run left it, to be looked up.
        fresh = [claim.delivery_id for claim in claims if claim.taken_over is None]
        with self.db.session() as session:
            if fresh:
                session.execute(
                    update(self.table)
                    .where(self.table.id.in_(fresh), self.table.status == "sending")
                    .values(status="queued", claimed_at=None)
                )
            for claim in claims:
                if claim.taken_over is not None:
                    session.execute(
                        update(self.table).where(self.table.id == claim.delivery_id).values(claimed_at=claim.taken_over)
                    )


def send_claimed(
    messenger: Messenger,
    kind: DeliveryKind,
    claim_batch: Callable[[], Sequence[ClaimT]],
    send: Callable[[ClaimT], MessageRef | None],
    ledger: Ledger[ClaimT],
    run: FanOutRun,
) -> None:
    """Send each claimed delivery once, batch after batch, until nothing claimable is left.

    SEND_WORKERS DMs are in flight at once. A claim taken over from a run that died is looked up
    in the person's DM first. `send` returns the sent message, or None when it dropped the
    delivery instead. Slack being unreachable stops the run: claims not yet tried go back, the
    one that failed is left to be looked up. A permanent failure (the person cannot get DMs) is
    recorded and the run goes on.
    """
    stop = threading.Event()
    reasons: list[str] = []

    def deliver(claim: ClaimT) -> str:
        if stop.is_set():
            return "untried"
        try:
            ref = _already_sent(messenger, kind, claim)
            outcome = "recovered"
            if ref is None:
                ref = send(claim)
                if ref is None:
                    return "dropped"
                outcome = "sent"
        except DeliveryFailed as failure:
            if not failure.permanent:
                stop.set()
                reasons.append(failure.reason)
                ledger.look_first(claim)
                return "interrupted"
            ledger.failed(claim, failure.reason)
            log.warning("%s.delivery_failed delivery=%s reason=%s", kind, claim.delivery_id, failure.reason)
            return "failed"
        ledger.sent(claim, ref)
        return outcome

    with ThreadPoolExecutor(max_workers=SEND_WORKERS, thread_name_prefix=f"{kind}-send") as pool:
        while not stop.is_set() and (batch := claim_batch()):
            outcomes = list(pool.map(deliver, batch))
            untried = [claim for claim, outcome in zip(batch, outcomes, strict=True) if outcome == "untried"]
            if untried:
                ledger.release(untried)
            tally = Counter(outcomes)
            run.sent += tally["sent"]
            run.recovered += tally["recovered"]
            run.failed += tally["failed"]
    if reasons:
        run.stopped = reasons[0]


def _already_sent(messenger: Messenger, kind: DeliveryKind, claim: Claim) -> MessageRef | None:
    if claim.taken_over is None:
        return None
    ref = messenger.find_delivery(claim.user_id, delivery_id=claim.delivery_id, kind=kind, since=claim.taken_over)
    log.info("%s.claim_recovered delivery=%s already_sent=%s", kind, claim.delivery_id, ref is not None)
    return ref


def mark(db: Database, table: DeliveryTable, delivery_id: int, **values: Any) -> None:
    """Record what happened to one claimed delivery, in its own short transaction."""
    with db.transaction() as connection:
        connection.execute(_mark_statement(table, tuple(sorted(values))), {"delivery_id": delivery_id, **values})


@functools.cache
def _mark_statement(table: DeliveryTable, columns: tuple[str, ...]) -> Update:
    # Built once per table and set of columns: building it per DM cost more than running it.
    return (
        update(table)
        .where(table.id == bindparam("delivery_id"))
        .values({column: bindparam(column) for column in columns})
    )


def expired_claim() -> dt.datetime:
    """A claim time already past its lease: the next run takes the claim over at once."""
    return now() - CLAIM_LEASE - dt.timedelta(seconds=1)
