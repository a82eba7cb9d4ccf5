"""Who gets the weekly pulse, and when: each person at their own local 10:00, never twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, update

from bot.db import Database
from bot.models import Delivery, Person, PulseRound
from bot.settings import Settings
from bot.slack.app import Services, make_services
from bot.slack.messenger import DELIVERY_ATTEMPTS
from bot.surveys.service import pause, resume, run_pulse_job
from bot.weeks import IsoWeek
from tests import factories
from tests.conftest import make_settings
from tests.slack_server import FakeSlack

TOKYO, BERLIN, LOS_ANGELES = "Asia/Tokyo", "Europe/Berlin", "America/Los_Angeles"


@pytest.fixture
def services(settings: Settings, db: Database) -> Services:
    return make_services(settings, db)


@pytest.fixture
def world(db: Database) -> dict[str, str]:
    """One person in each of three time zones."""
    people = {"UTOKYO": TOKYO, "UBERLIN": BERLIN, "ULA": LOS_ANGELES}
    for user_id, tz in people.items():
        factories.person(db, user_id, tz=tz)
    return people


def dm_recipients(slack: FakeSlack) -> list[str]:
    return [call.params["channel"] for call in slack.calls_to("chat.postMessage")]


def tick(services: Services, when: str, **kwargs: object):  # type: ignore[no-untyped-def]
    with freeze_time(when):
        return run_pulse_job(services.db, services.messenger, services.behaviour, **kwargs)  # type: ignore[arg-type]


def test_each_person_gets_the_pulse_at_their_own_ten_oclock(services: Services, slack: FakeSlack, world: dict) -> None:
    # Tuesday 24 November 2026: 10:00 is 01:00 UTC in Tokyo, 09:00 in Berlin, 18:00 in Los Angeles.
    tick(services, "2026-11-24 00:59")
    assert dm_recipients(slack) == []
    tick(services, "2026-11-24 01:00")
    assert dm_recipients(slack) == ["UTOKYO"]
    tick(services, "2026-11-24 08:59")
    assert dm_recipients(slack) == ["UTOKYO"]
    tick(services, "2026-11-24 09:00")
    assert dm_recipients(slack) == ["UTOKYO", "UBERLIN"]
    tick(services, "2026-11-24 17:59")
    assert dm_recipients(slack) == ["UTOKYO", "UBERLIN"]
    run = tick(services, "2026-11-24 18:00")
    assert dm_recipients(slack) == ["UTOKYO", "UBERLIN", "ULA"]
    assert run.weeks == ["2026-W48"]


@pytest.mark.parametrize(
    ("tz", "tuesday", "ten_oclock_utc"),
    [
        # US clocks go forward on Sunday 8 March 2026: the Tuesday before is PST, the one after PDT.
        (LOS_ANGELES, "2026-03-03", "18:00"),
        (LOS_ANGELES, "2026-03-10", "17:00"),
        # Europe goes forward on Sunday 29 March and back on Sunday 25 October 2026.
        (BERLIN, "2026-03-24", "09:00"),
        (BERLIN, "2026-03-31", "08:00"),
        (BERLIN, "2026-10-20", "08:00"),
        (BERLIN, "2026-10-27", "09:00"),
        # US clocks go back on Sunday 1 November 2026.
        (LOS_ANGELES, "2026-11-03", "18:00"),
        # Japan has no daylight saving time.
        (TOKYO, "2026-03-10", "01:00"),
    ],
)
def test_local_ten_oclock_follows_daylight_saving_changes(
    services: Services, slack: FakeSlack, db: Database, tz: str, tuesday: str, ten_oclock_utc: str
) -> None:
    factories.person(db, "UDST", tz=tz)
    due = dt.datetime.fromisoformat(f"{tuesday} {ten_oclock_utc}")
    tick(services, str(due - dt.timedelta(minutes=1)))
    assert dm_recipients(slack) == []
    tick(services, str(due))
    assert dm_recipients(slack) == ["UDST"]


def test_a_second_run_sends_nothing_twice(services: Services, slack: FakeSlack, world: dict, db: Database) -> None:
    runs = [tick(services, when) for when in ("2026-11-24 09:00", "2026-11-24 09:00", "2026-11-25 01:00", "2026-11-25 01:00")]
    assert [run.sent for run in runs] == [1, 0, 2, 0]  # Berlin; again; Tokyo and Los Angeles; again
    assert sorted(dm_recipients(slack)) == ["UBERLIN", "ULA", "UTOKYO"]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "sent")) == 3
        assert session.scalar(select(func.count()).select_from(PulseRound)) == 1


def test_nobody_is_messaged_on_their_weekend(services: Services, slack: FakeSlack, world: dict) -> None:
    # The scheduler was down from Tuesday to the weekend: Saturday in all three zones.
    tick(services, "2026-11-28 12:00")
    tick(services, "2026-11-29 12:00")
    assert dm_recipients(slack) == []


def test_a_late_start_catches_up_in_working_hours(services: Services, slack: FakeSlack, world: dict) -> None:
    # Down all Tuesday; back on Wednesday at 09:00 UTC: 10:00 in Berlin, evening in Tokyo, night in LA.
    tick(services, "2026-11-25 09:00")
    assert dm_recipients(slack) == ["UBERLIN"]
    tick(services, "2026-11-25 18:00")
    assert dm_recipients(slack) == ["UBERLIN", "ULA"]
    tick(services, "2026-11-26 01:00")
    assert dm_recipients(slack) == ["UBERLIN", "ULA", "UTOKYO"]


def test_force_ignores_the_time_of_day(services: Services, slack: FakeSlack, world: dict) -> None:
    # Monday 16:00 UTC: Monday in Berlin and Los Angeles, 01:00 Tuesday in Tokyo; nobody is due yet.
    assert tick(services, "2026-11-23 16:00").sent == 0
    run = tick(services, "2026-11-23 16:00", force=True)
    assert sorted(dm_recipients(slack)) == ["UBERLIN", "ULA", "UTOKYO"]
    assert run.weeks == ["2026-W48"]


def test_away_people_are_held_back_until_they_return(
    services: Services, slack: FakeSlack, db: Database
) -> None:
    factories.person(db, "UHERE", tz=BERLIN)
    factories.person(db, "UAWAY", tz=BERLIN, away=True)
    run = tick(services, "2026-11-24 09:00")
    assert dm_recipients(slack) == ["UHERE"]
    assert run.held_away == 1
    with db.session() as session:
        session.execute(update(Person).where(Person.slack_user_id == "UAWAY").values(away=False))
    tick(services, "2026-11-26 09:00")
    assert dm_recipients(slack) == ["UHERE", "UAWAY"]


def test_an_away_status_that_expired_no_longer_holds_the_pulse(services: Services, slack: FakeSlack, db: Database) -> None:
    factories.person(db, "UBACK", tz=BERLIN, away=True)
    with db.session() as session:
        session.execute(
            update(Person).values(away_until=dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.timezone.utc))
        )
    tick(services, "2026-11-24 09:00")
    assert dm_recipients(slack) == ["UBACK"]


def test_paused_people_get_nothing_until_they_resume(services: Services, slack: FakeSlack, db: Database) -> None:
    factories.person(db, "UPAUSE", tz=BERLIN)
    with freeze_time("2026-11-20 12:00"):
        pause(db, "UPAUSE", 2)
    tick(services, "2026-11-24 09:00")
    tick(services, "2026-12-01 09:00")
    assert dm_recipients(slack) == []
    tick(services, "2026-12-08 09:00")  # two weeks are over
    assert dm_recipients(slack) == ["UPAUSE"]


def test_resume_brings_this_weeks_pulse_back(services: Services, slack: FakeSlack, db: Database) -> None:
    factories.person(db, "UPAUSE", tz=BERLIN)
    with freeze_time("2026-11-20 12:00"):
        pause(db, "UPAUSE", None)
    tick(services, "2026-11-24 09:00")
    assert dm_recipients(slack) == []
    with freeze_time("2026-11-24 12:00"):
        assert resume(db, "UPAUSE") is True
    tick(services, "2026-11-24 12:05")
    assert dm_recipients(slack) == ["UPAUSE"]


def test_deactivated_people_get_no_pulse(services: Services, slack: FakeSlack, db: Database) -> None:
    factories.person(db, "UGONE", tz=BERLIN)
    with db.session() as session:
        session.execute(update(Person).values(active=False))
    tick(services, "2026-11-24 09:00")
    assert dm_recipients(slack) == []


def test_slack_outage_leaves_the_pulse_queued_for_the_next_run(
    services: Services, slack: FakeSlack, db: Database
) -> None:
    factories.person(db, "UONE", tz=BERLIN)
    # Slack keeps answering with an error that may pass ("internal_error"): nothing is lost or
    # marked failed, and the DM it may have posted is looked for before it is sent again.
    slack.fail("chat.postMessage", error="internal_error", times=DELIVERY_ATTEMPTS)
    run = tick(services, "2026-11-24 09:00")
    assert run.sent == 0 and run.stopped == "slack answer lost: internal_error"
    slack.reset_calls()
    run = tick(services, "2026-11-24 09:05")
    assert run.sent == 1
    assert dm_recipients(slack) == ["UONE"]


def test_an_account_slack_refuses_is_marked_failed_not_retried(
    services: Services, slack: FakeSlack, db: Database
) -> None:
    factories.person(db, "UDISABLED", tz=BERLIN)
    factories.person(db, "UOK", tz=BERLIN)
    slack.add_user("UDISABLED", deleted=True)
    run = tick(services, "2026-11-24 09:00")
    assert (run.sent, run.failed) == (1, 1)
    tick(services, "2026-11-24 09:05")
    assert dm_recipients(slack).count("UDISABLED") == 1
    with db.session() as session:
        failed = session.scalars(select(Delivery).where(Delivery.status == "failed")).one()
        assert failed.error == "user_disabled"


@pytest.mark.parametrize("status", [429, 503])
def test_a_rate_limited_or_failed_send_still_arrives_once(
    services: Services, slack: FakeSlack, db: Database, status: int
) -> None:
    factories.person(db, "UONE", tz=BERLIN)
    slack.fail("chat.postMessage", status=status, retry_after=0 if status == 429 else None)
    run = tick(services, "2026-11-24 09:00")
    assert run.sent == 1
    assert len(slack.calls_to("chat.postMessage")) == 2
    assert len(slack.messages["DONE"]) == 1


def test_weeks_rotate_questions_but_always_ask_the_core(services: Services, slack: FakeSlack, db: Database) -> None:
    factories.person(db, "UONE", tz=BERLIN)
    tick(services, "2026-11-24 09:00")
    tick(services, "2026-12-01 09:00")
    first, second = (call.params["blocks"] for call in slack.calls_to("chat.postMessage"))

    def asked(blocks: list[dict]) -> list[str]:
        return [b["block_id"][2:] for b in blocks if b.get("block_id", "").startswith("q:")]

    core = ["capability", "workload", "time_saved", "upkeep"]
    assert asked(first)[:4] == core and asked(second)[:4] == core
    assert len(asked(first)) == len(asked(second)) == 6
    assert asked(first)[4:] != asked(second)[4:]


def test_the_week_of_a_round_is_the_persons_local_week(
    database_url: str, db: Database, slack: FakeSlack, tmp_path: Path
) -> None:
    config = tmp_path / "behaviour.yml"
    config.write_text("schedule:\n  pulse_day: monday\n")
    services = make_services(make_settings(database_url=database_url, slack_api_url=slack.url, pulse_config=config), db)
    factories.person(db, "UTOKYO", tz=TOKYO)
    factories.person(db, "ULA", tz=LOS_ANGELES)
    # Monday 30 Nov 01:00 UTC is Monday 10:00 in Tokyo (week 49) but Sunday evening in Los Angeles.
    run = tick(services, "2026-11-30 01:00")
    assert run.weeks == [str(IsoWeek(2026, 49))]
    assert dm_recipients(slack) == ["UTOKYO"]
