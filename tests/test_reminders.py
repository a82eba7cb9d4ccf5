"""One reminder, two days after the pulse, to those who neither answered nor skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.db import Database
from bot.models import PulseRound
from bot.settings import Settings
from bot.slack.app import Services, make_services
from bot.surveys.service import pause, record_answer, run_pulse_job, run_reminder_job, skip_week
from tests import factories
from tests.conftest import make_settings
from tests.slack_server import FakeSlack

BERLIN = "Europe/Berlin"


@pytest.fixture
def services(settings: Settings, db: Database) -> Services:
    return make_services(settings, db)


def reminded(slack: FakeSlack) -> list[str]:
    return [c.params["channel"] for c in slack.calls_to("chat.postMessage") if "reminder" in c.params.get("text", "")]


def remind(services: Services, when: str, **kwargs: object):  # type: ignore[no-untyped-def]
    with freeze_time(when):
        return run_reminder_job(services.db, services.messenger, services.behaviour, services.key, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def sent_round(services: Services, db: Database) -> int:
    for user_id in ("USILENT", "UANSWERED", "USKIPPED", "UPAUSED"):
        factories.person(db, user_id, tz=BERLIN)
    with freeze_time("2026-11-24 09:00"):
        run_pulse_job(db, services.messenger, services.behaviour)
    with db.session() as session:
        round_id = session.scalars(select(PulseRound.id)).one()
    with freeze_time("2026-11-24 12:00"):
        record_answer(db, services.key, "UANSWERED", round_id, "capability", 2)
        skip_week(db, services.key, "USKIPPED", round_id)
        pause(db, "UPAUSED", 2)
    return round_id


def test_only_people_who_neither_answered_nor_skipped_get_one_reminder(
    services: Services, slack: FakeSlack, sent_round: int
) -> None:
    assert remind(services, "2026-11-26 08:59").reminded == 0  # 47 h 59 min after the pulse
    assert remind(services, "2026-11-26 09:00").reminded == 1
    assert remind(services, "2026-11-26 09:05").reminded == 0
    assert remind(services, "2026-11-27 09:00").reminded == 0
    assert reminded(slack) == ["USILENT"]
    reminder = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "USILENT"][-1]
    assert "2026-W48" in reminder.params["text"]


def test_a_reminder_due_at_night_waits_for_the_next_working_morning(
    services: Services, slack: FakeSlack, sent_round: int
) -> None:
    assert remind(services, "2026-11-26 20:00").reminded == 0  # due, but 21:00 in Berlin
    assert remind(services, "2026-11-27 06:00").reminded == 0  # 07:00 on Friday: before the pulse time
    assert remind(services, "2026-11-27 09:00").reminded == 1  # 10:00 on Friday
    assert reminded(slack) == ["USILENT"]


def test_no_reminder_on_the_weekend(services: Services, slack: FakeSlack, sent_round: int) -> None:
    assert remind(services, "2026-11-28 10:00").reminded == 0
    assert remind(services, "2026-11-29 10:00").reminded == 0
    assert reminded(slack) == []


def test_no_reminder_after_the_round_closed(services: Services, slack: FakeSlack, sent_round: int) -> None:
    assert remind(services, "2026-11-30 12:00").reminded == 0
    assert reminded(slack) == []


def test_force_reminds_at_once(services: Services, slack: FakeSlack, sent_round: int) -> None:
    assert remind(services, "2026-11-24 20:00", force=True).reminded == 1
    assert reminded(slack) == ["USILENT"]


def test_a_slack_hiccup_leaves_the_reminder_for_the_next_run(services: Services, slack: FakeSlack, sent_round: int) -> None:
    slack.fail("chat.postMessage", error="internal_error")
    run = remind(services, "2026-11-26 09:00")
    assert (run.reminded, run.stopped) == (0, "internal_error")
    assert remind(services, "2026-11-26 09:05").reminded == 1


def test_reminders_can_be_turned_off(
    database_url: str, db: Database, slack: FakeSlack, tmp_path: Path
) -> None:
    config = tmp_path / "behaviour.yml"
    config.write_text("schedule:\n  reminder_after_hours: null\n")
    services = make_services(make_settings(database_url=database_url, slack_api_url=slack.url, pulse_config=config), db)
    factories.person(db, "USILENT", tz=BERLIN)
    with freeze_time("2026-11-24 09:00"):
        run_pulse_job(db, services.messenger, services.behaviour)
    assert remind(services, "2026-11-26 09:00").reminded == 0
    assert reminded(slack) == []
