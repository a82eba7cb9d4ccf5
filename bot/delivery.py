"""When a weekly DM is due, and who may get one, and how it is sent once: the rules every
scheduled fan-out shares.

The pulse and the explainers both arrive at a local day and time in each person's own time zone,
only on workdays of their own calendar (bot/calendars/) and within working hours, never while
they are paused or away. They
and the reminders claim deliveries in batches and record what happened; the driver for that
lives here too, so the fan-outs cannot drift apart.

Exactly once, through crashes and a second scheduler: a delivery is claimed in the database
('sending', with the time of its first claim and the run that holds it) before its DM is sent,
and marked 'sent' after. Claims are taken with FOR UPDATE SKIP LOCKED on PostgreSQL, and on
either database the UPDATE that takes them checks again that they are free, so two schedulers
split a fan-out rather than repeat it.

A run that claims anything writes a `job_runs` row and a thread of its own refreshes its
heartbeat every HEARTBEAT_EVERY (5 s), whatever the sending is doing (a DM can wait a minute on
Slack's rate limit). A claim whose run has not beaten for RUN_STALE (30 s) belongs to a run that died
between the two steps (or that left a DM Slack failed mid-send): the next run takes it over at
once, and before the DM is sent again the person's DM history is searched, from the first claim
on, for the message metadata that names the delivery; a DM that did go out is only marked sent.
A run whose own heartbeat cannot be written for HEARTBEAT_LOST stops sending, since its claims
may already be another run's. The same rule holds on both databases: a heartbeat in a table
needs nothing of PostgreSQL's session locks, and on SQLite the clock, a `pulse jobs run` and the
web process are separate processes sharing the file, so a lock held by one process proves nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Row, Select, Update, and_, bindparam, delete, exists, insert, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from bot import progress
from bot.calendars.people import Cohort, DueCohorts, PeopleCalendars
from bot.db import Database
from bot.messenger import DeliveryFailed, DeliveryKind, MessageRef, Messenger
from bot.models import Delivery, ExplainerDelivery, JobRun, Person
from bot.settings import Schedule
from bot.weeks import IsoWeek, local_instant, local_now, now

log = logging.getLogger(__name__)

CLAIM_BATCH = 200
# DMs Slack has accepted are recorded as sent together at the end of every batch, and meanwhile
# once this many seconds have passed since the last record (see _SentRecords).
RECORD_EVERY = 1.0
# DMs in flight at once: sending is bound by Slack's round trip, not by our CPU.
SEND_WORKERS = 8
# A live run refreshes its heartbeat this often; one silent for RUN_STALE has died. (The clocks of
# the machines running jobs must agree to within a few seconds, as NTP keeps them.)
HEARTBEAT_EVERY = dt.timedelta(seconds=5)
RUN_STALE = dt.timedelta(seconds=30)
# A run stops sending once its heartbeat has gone unwritten this long, well before RUN_STALE.
HEARTBEAT_LOST = RUN_STALE - 2 * HEARTBEAT_EVERY
# Claims that name no run (taken before runs kept a heartbeat) are taken over after this lease.
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


def abandoned(
    run: InstrumentedAttribute[int | None], claimed_at: InstrumentedAttribute[dt.datetime | None], at: dt.datetime
) -> ColumnElement[bool]:
    """A claim ('sending') whose run has died: its heartbeat is stale or, for a claim that names
    no run, its lease has run out."""
    alive = exists().where(JobRun.id == run, JobRun.heartbeat_at >= at - RUN_STALE)
    return or_(and_(run.is_(None), claimed_at < at - CLAIM_LEASE), and_(run.is_not(None), ~alive))


def claimable(table: DeliveryTable, claim_time: dt.datetime) -> ColumnElement[bool]:
    """Queued, or claimed by a run that has since died."""
    return or_(
        table.status == "queued",
        and_(table.status == "sending", abandoned(table.run_id, table.claimed_at, claim_time)),
    )


class LiveRun:
    """This process's run of one fan-out job, as the other runs see it: a `job_runs` row whose
    heartbeat a thread keeps fresh. The row is written at the first claim, so a tick with nothing
    to send writes nothing; `finish` stops the heartbeat, after which what the run still holds
    (a DM Slack failed mid-send) is free for the next run within RUN_STALE."""

    def __init__(self, db: Database, job: str, *, every: dt.timedelta = HEARTBEAT_EVERY) -> None:
        self.db = db
        self.job = job
        self.every = every
        self._id: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._beaten = 0.0

    @property
    def id(self) -> int:
        with self._lock:
            if self._id is None:
                self._id = start_run(self.db, self.job)
                self._beaten = time.monotonic()
                self._thread = threading.Thread(target=self._beat, name=f"{self.job}-heartbeat", daemon=True)
                self._thread.start()
            return self._id

    def holds_claims(self) -> bool:
        """False once the heartbeat has gone unwritten for so long that another run may soon take
        this run's claims over: then the run must send nothing more."""
        return self._id is None or time.monotonic() - self._beaten < HEARTBEAT_LOST.total_seconds()

    def beat(self) -> None:
        """Say the run is alive now (the heartbeat thread does this every HEARTBEAT_EVERY)."""
        started = time.monotonic()  # the time written is taken now, however long the write waits
        with self.db.transaction() as connection:
            connection.execute(update(JobRun).where(JobRun.id == self.id).values(heartbeat_at=now()))
        self._beaten = started

    def _beat(self) -> None:
        while not self._stop.wait(self.every.total_seconds()):
            try:
                self.beat()
            except SQLAlchemyError as error:
                log.warning("%s.heartbeat_failed run=%s reason=%s", self.job, self._id, type(error).__name__)

    def finish(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._id is None:
            return
        try:
            with self.db.transaction() as connection:
                over = or_(JobRun.id == self._id, JobRun.heartbeat_at < now() - RUN_STALE)
                connection.execute(delete(JobRun).where(over, _holds_nothing()))
        except SQLAlchemyError as error:
            log.warning("%s.run_cleanup_failed run=%s reason=%s", self.job, self._id, type(error).__name__)


def _holds_nothing() -> ColumnElement[bool]:
    """A run no claim names any more: its row can go (this run's own, and those of runs that died
    once their claims were taken over)."""
    return and_(
        ~exists().where(Delivery.run_id == JobRun.id),
        ~exists().where(Delivery.reminder_run_id == JobRun.id),
        ~exists().where(ExplainerDelivery.run_id == JobRun.id),
    )


def start_run(db: Database, job: str) -> int:
    """Record that a run of `job` has started and is alive now; return its id."""
    at = now()
    with db.transaction() as connection:
        return int(
            connection.execute(
                insert(JobRun).values(job=job, started_at=at, heartbeat_at=at).returning(JobRun.id)
            ).scalar_one()
        )


@contextmanager
def live_run(db: Database, job: str) -> Iterator[LiveRun]:
    """A run for the length of the block; its heartbeat stops when the block ends, however it ends."""
    run = LiveRun(db, job)
    try:
        yield run
    finally:
        run.finish()


def claim_rows(
    db: Database, table: DeliveryTable, query: Select[*tuple[Any, ...]], run_id: Callable[[], int]
) -> tuple[dt.datetime, list[Row[*tuple[Any, ...]]]]:
    """Claim the next batch of deliveries `query` selects for the run `run_id` names; return the
    claim time and the rows.

    `query` selects the table's id, status and claimed_at (the state before this claim) and
    whatever the sender needs. The UPDATE checks again that each row is still as selected and
    claimable: on PostgreSQL the rows are locked already (SKIP LOCKED passes over another run's
    batch), and on SQLite, where the SELECT takes no lock, the write lock makes the UPDATE the
    arbiter between two runs that selected the same rows; the loser selects again. A claim taken
    over keeps the time of its first claim: a DM may have gone out at any moment since.
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
            run = run_id()
            queued = [row.id for row in rows if row.status == "queued"]
            dead = [row.id for row in rows if row.status == "sending"]
            taken: set[int] = set()
            if queued:
                taken |= set(
                    session.execute(
                        update(table)
                        .where(table.id.in_(queued), table.status == "queued")
                        .values(status="sending", claimed_at=claim_time, run_id=run)
                        .returning(table.id)
                    ).scalars()
                )
            if dead:
                taken |= set(
                    session.execute(
                        update(table)
                        .where(table.id.in_(dead), table.status == "sending", claimable(table, claim_time))
                        .values(run_id=run)
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
    """When a run that died first claimed the row, if it was still 'sending'."""
    return row.claimed_at if row.status == "sending" else None


ClaimT = TypeVar("ClaimT", bound=Claim)
ClaimContraT = TypeVar("ClaimContraT", bound=Claim, contravariant=True)


class FanOutRun(Protocol):
    sent: int
    recovered: int
    failed: int
    stopped: str | None


class Ledger(Protocol[ClaimContraT]):
    """Where a fan-out records what became of each claim.

    A claim neither sent, failed nor released (Slack failed while its DM was being sent, so it
    may have gone out) stays with the run, and the next run takes it over once this one is over,
    looking in the DM before sending."""

    def sent(self, sent: Sequence[tuple[ClaimContraT, MessageRef]]) -> None:
        """Record DMs Slack has accepted, together."""

    def failed(self, claim: ClaimContraT, reason: str) -> None: ...

    def release(self, claims: Sequence[ClaimContraT]) -> None:
        """Give claims not yet tried back for the next run."""


@dataclass(frozen=True)
class StatusLedger:
    """Deliveries whose `status` column records the claim: pulses and explainers."""

    db: Database
    table: DeliveryTable
    at: dt.datetime
    run_id: Callable[[], int]

    def sent(self, sent: Sequence[tuple[Claim, MessageRef]]) -> None:
        marks(
            self.db, self.table,
            [
                {"delivery_id": claim.delivery_id, "status": "sent", "channel_id": ref.channel, "message_ts": ref.ts,
                 "sent_at": self.at, "run_id": None}
                for claim, ref in sent
            ],
        )

    def failed(self, claim: Claim, reason: str) -> None:
        mark(self.db, self.table, claim.delivery_id, status="failed", error=reason[:100], run_id=None)

    def release(self, claims: Sequence[Claim]) -> None:
        # A claim taken over from a run that died stays claimed, to be looked up by the next run.
        fresh = [claim.delivery_id for claim in claims if claim.taken_over is None]
        if not fresh:
            return
        with self.db.session() as session:
            session.execute(
                update(self.table)
                .where(self.table.id.in_(fresh), self.table.status == "sending", self.table.run_id == self.run_id())
                .values(status="queued", claimed_at=None, run_id=None)
            )


def send_claimed(
    messenger: Messenger,
    kind: DeliveryKind,
    claim_batch: Callable[[], Sequence[ClaimT]],
    send: Callable[[ClaimT], MessageRef | None],
    ledger: Ledger[ClaimT],
    run: FanOutRun,
    live: LiveRun,
) -> None:
    """Send each claimed delivery once, batch after batch, until nothing claimable is left.

    SEND_WORKERS DMs are in flight at once. A claim taken over from a run that died is looked up
    in the person's DM first. What Slack accepted is recorded batch by batch (one write for many,
    where one per DM cost more than sending it); a run that dies before recording some leaves them
    claimed, and the next run finds them in the DMs instead of sending them again. `send` returns the sent message, or None when it dropped the
    delivery instead. Slack being unreachable stops the run: claims not yet tried go back, the
    one that failed stays with the run, to be looked up by the next. A permanent failure (the
    person cannot get DMs) is recorded and the run goes on. A run that can no longer keep its
    heartbeat stops before sending anything more.
    """
    stop = threading.Event()
    reasons: list[str] = []
    records = _SentRecords(ledger)

    def deliver(claim: ClaimT) -> str:
        if stop.is_set():
            return "untried"
        if not live.holds_claims():
            stop.set()
            reasons.append("the run's heartbeat could not be recorded, so another run may take its claims over")
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
                return "interrupted"
            ledger.failed(claim, failure.reason)
            log.warning("%s.delivery_failed delivery=%s reason=%s", kind, claim.delivery_id, failure.reason)
            return "failed"
        records.add(claim, ref)
        return outcome

    with ThreadPoolExecutor(max_workers=SEND_WORKERS, thread_name_prefix=f"{kind}-send") as pool:
        while not stop.is_set() and (batch := claim_batch()):
            try:
                outcomes = _each(pool, deliver, batch)
            finally:
                records.flush()
            untried = [claim for claim, outcome in zip(batch, outcomes, strict=True) if outcome == "untried"]
            if untried:
                ledger.release(untried)
            tally = Counter(outcomes)
            run.sent += tally["sent"]
            run.recovered += tally["recovered"]
            run.failed += tally["failed"]
            progress.report(f"{kind} DMs sent", run.sent + run.recovered)
    if reasons:
        run.stopped = reasons[0]


def _each(pool: ThreadPoolExecutor, work: Callable[[ClaimT], str], batch: Sequence[ClaimT]) -> list[str]:
    """`work` done for each claim of the batch by SEND_WORKERS threads, each taking the next claim
    left; the outcomes in the batch's order. One task per thread rather than per claim: a task
    per DM cost a future and a thread switch each."""
    outcomes = [""] * len(batch)
    left = iter(range(len(batch)))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                index = next(left, None)
            if index is None:
                return
            outcomes[index] = work(batch[index])

    tasks = [pool.submit(worker) for _ in range(min(SEND_WORKERS, len(batch)))]
    wait(tasks)  # all of them, even when one failed: what the others sent is recorded after
    for task in tasks:
        task.result()
    return outcomes


class _SentRecords(Generic[ClaimT]):
    """DMs Slack has accepted, waiting to be recorded together: those of a batch when it ends, and
    those of the last RECORD_EVERY seconds meanwhile (so a slow, rate-limited batch still records
    as it goes). A DM is recorded only once Slack has accepted it; one that a run dying leaves
    unrecorded is still claimed, so the next run looks for it in the DM before sending."""

    def __init__(self, ledger: Ledger[ClaimT]) -> None:
        self._ledger = ledger
        self._lock = threading.Lock()
        self._pending: list[tuple[ClaimT, MessageRef]] = []
        self._since = time.monotonic()

    def add(self, claim: ClaimT, ref: MessageRef) -> None:
        with self._lock:
            self._pending.append((claim, ref))
            if time.monotonic() - self._since < RECORD_EVERY:
                return
            due = self._take()
        self._ledger.sent(due)

    def flush(self) -> None:
        with self._lock:
            due = self._take()
        if due:
            self._ledger.sent(due)

    def _take(self) -> list[tuple[ClaimT, MessageRef]]:
        due, self._pending = self._pending, []
        self._since = time.monotonic()
        return due


def _already_sent(messenger: Messenger, kind: DeliveryKind, claim: Claim) -> MessageRef | None:
    if claim.taken_over is None:
        return None
    ref = messenger.find_delivery(claim.user_id, delivery_id=claim.delivery_id, kind=kind, since=claim.taken_over)
    log.info("%s.claim_recovered delivery=%s already_sent=%s", kind, claim.delivery_id, ref is not None)
    return ref


def mark(db: Database, table: DeliveryTable, delivery_id: int, **values: Any) -> None:
    """Record what happened to one claimed delivery, in its own short transaction."""
    marks(db, table, [{"delivery_id": delivery_id, **values}])


def marks(db: Database, table: DeliveryTable, rows: Sequence[dict[str, Any]]) -> None:
    """Record what happened to claimed deliveries, each row naming its `delivery_id` and the same
    columns, in one short transaction."""
    if not rows:
        return
    columns = tuple(sorted(column for column in rows[0] if column != "delivery_id"))
    with db.transaction() as connection:
        connection.execute(_mark_statement(table, columns), list(rows))


@functools.cache
def _mark_statement(table: DeliveryTable, columns: tuple[str, ...]) -> Update:
    # Built once per table and set of columns: building it per DM cost more than running it.
    return (
        update(table)
        .where(table.id == bindparam("delivery_id"))
        .values({column: bindparam(column) for column in columns})
    )

