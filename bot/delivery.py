"""When a weekly DM is due, and who may get one: the rules every scheduled fan-out shares.

The pulse and the explainers both arrive at a local day and time in each person's own time zone,
only on their workdays and within working hours, never while they are paused or away. Both
claim queued deliveries in batches and mark what happened; the helpers for that live here too,
so the two fan-outs cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.sql.elements import ColumnElement

from bot.db import Database
from bot.models import Delivery, ExplainerDelivery, Person
from bot.settings import Schedule
from bot.weeks import IsoWeek, local_instant, local_now

CLAIM_BATCH = 200
# A claim older than this belongs to a run that died mid-send; its delivery is queued again.
CLAIM_LEASE = dt.timedelta(minutes=10)

DeliveryTable = type[Delivery] | type[ExplainerDelivery]


def due_weeks(
    time_zones: Iterable[str],
    schedule: Schedule,
    send_day: int,
    send_time: dt.time,
    at: dt.datetime,
    *,
    force: bool,
    week: IsoWeek | None,
) -> dict[IsoWeek, list[str]]:
    """For each ISO week, the time zones where a DM sent on `send_day` at `send_time` is due now.

    Due means: the person's local date is a workday in that week, their local clock has passed the
    send day and time, and it is not yet evening (late DMs wait for the next workday morning).
    `force` ignores the day and time, never the weekend.
    """
    due: dict[IsoWeek, list[str]] = defaultdict(list)
    for tz in time_zones:
        local = local_now(tz, at)
        local_week = IsoWeek.of(local.date())
        target = week or local_week
        if local.isoweekday() not in schedule.workdays:
            continue
        if not force:
            if target != local_week:
                continue
            if local < local_instant(tz, target.day(send_day), send_time):
                continue
            if not within_sending_hours(schedule, local, send_time):
                continue
        due[target].append(tz)
    return due


def within_sending_hours(schedule: Schedule, local: dt.datetime, start: dt.time) -> bool:
    return start <= local.time() < schedule.latest_time


def not_paused(at: dt.datetime) -> ColumnElement[bool]:
    return or_(Person.paused_until.is_(None), Person.paused_until < at.date())


def not_away(at: dt.datetime) -> ColumnElement[bool]:
    return or_(Person.away.is_(False), and_(Person.away_until.is_not(None), Person.away_until <= at))


def mark(db: Database, table: DeliveryTable, delivery_id: int, **values: Any) -> None:
    """Record what happened to one claimed delivery, in its own short transaction."""
    with db.session() as session:
        session.execute(update(table).where(table.id == delivery_id).values(**values))


def release(db: Database, table: DeliveryTable, delivery_ids: list[int]) -> None:
    """Give claimed deliveries back to the queue, for the next run, when Slack is unreachable."""
    with db.session() as session:
        session.execute(
            update(table)
            .where(table.id.in_(delivery_ids), table.status == "sending")
            .values(status="queued", claimed_at=None)
        )
