"""One reminder, two days after the pulse, to those who neither answered nor skipped.

Only on their workdays, within their local working hours (10:00 to 18:00), while the round is
open, never while paused or away; once, even when the job runs again or Slack hiccups.
Tuesday 24 November 2026 09:00 UTC is 10:00 in Berlin, when the pulse of 2026-W48 goes out; the
round closes on Monday 30 November at 12:00 UTC.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select, update

from bot.db import Database
from bot.models import Person, PulseRound
from bot.settings import Settings
from bot.slack.app import Services, make_services
from bot.slack.messenger import DELIVERY_ATTEMPTS
from bot.surveys.service import (
    ReminderRun,
    pause,
    InvalidAnswer,
    record_answer,
    record_answers,
    resume,
    run_pulse_job,
    run_reminder_job,
    skip_week,
)
from tests import factories, stored
from tests.blockkit import assert_valid_blocks
from tests.conftest import make_settings
from tests.slack_server import FakeSlack

BERLIN, TOKYO, LOS_ANGELES = "Europe/Berlin", "Asia/Tokyo", "America/Los_Angeles"
PULSE_GOES_OUT = "2026-11-24 09:00"  # Tuesday 10:00 in Berlin
REMINDER_DUE = "2026-11-26 09:00"  # 48 hours later: Thursday 10:00 in Berlin


@pytest.fixture
def services(settings: Settings, db: Database) -> Services:
    return make_services(settings, db)


def send_pulse(services: Services, slack: FakeSlack, when: str = PULSE_GOES_OUT) -> int:
    """Run the pulse job; every DM after this one is a reminder. Returns the round's id."""
    with freeze_time(when):
        assert run_pulse_job(services.db, services.messenger, services.behaviour).sent > 0
    slack.reset_calls()
    with services.db.session() as session:
        return session.scalars(select(PulseRound.id)).one()


def remind(services: Services, when: str, **kwargs: object) -> ReminderRun:
    with freeze_time(when):
        return run_reminder_job(services.db, services.messenger, services.behaviour, services.key, **kwargs)  # type: ignore[arg-type]


def reminded(slack: FakeSlack) -> list[str]:
    """Who got a reminder DM, in the order they went out."""
    return [call.params["channel"] for call in slack.calls_to("chat.postMessage")]


@pytest.fixture
def round_id(services: Services, slack: FakeSlack, db: Database) -> int:
    """The pulse went out in Berlin; by noon one person answered, one skipped, one paused."""
    for user_id in ("USILENT", "UQUIET", "UANSWERED", "USKIPPED", "UPAUSED"):
        factories.person(db, user_id, tz=BERLIN)
    round_id = send_pulse(services, slack)
    with freeze_time("2026-11-24 12:00"):
        record_answer(db, services.key, "UANSWERED", round_id, "capability", 2)
        skip_week(db, services.key, "USKIPPED", round_id)
        pause(db, "UPAUSED", 2)
    return round_id


# ---------------------------------------------------------------- who, and how often


def test_those_who_have_not_answered_get_one_reminder_48_hours_after_the_pulse(
    services: Services, slack: FakeSlack, round_id: int
) -> None:
    assert remind(services, "2026-11-26 08:59").sent == 0  # 47 h 59 min after the pulse
    assert reminded(slack) == []
    assert remind(services, REMINDER_DUE).sent == 2
    assert sorted(reminded(slack)) == ["UQUIET", "USILENT"]


def test_nobody_who_answered_skipped_or_paused_is_reminded(services: Services, slack: FakeSlack, round_id: int) -> None:
    remind(services, REMINDER_DUE)
    remind(services, "2026-11-27 09:00")
    assert {"UANSWERED", "USKIPPED", "UPAUSED"}.isdisjoint(reminded(slack))


def test_a_second_run_sends_no_second_reminder(services: Services, slack: FakeSlack, round_id: int) -> None:
    assert remind(services, REMINDER_DUE).sent == 2
    assert remind(services, REMINDER_DUE).sent == 0  # the same tick again
    assert remind(services, "2026-11-26 09:05").sent == 0
    assert remind(services, "2026-11-27 09:00").sent == 0  # still silent on Friday: no nagging
    assert remind(services, "2026-11-30 09:00").sent == 0
    assert sorted(reminded(slack)) == ["UQUIET", "USILENT"]


def test_the_reminder_names_the_week_in_the_persons_own_dm(
    services: Services, slack: FakeSlack, round_id: int
) -> None:
    remind(services, REMINDER_DUE)
    reminder = next(call.params for call in slack.calls_to("chat.postMessage") if call.params["channel"] == "USILENT")
    assert "2026-W48" in reminder["text"]
    assert "2026-W48" in reminder["blocks"][0]["text"]["text"]
    assert_valid_blocks(reminder, surface="message")
    # It lands in the person's DM with the app, right under their pulse, which it points to.
    pulse, second = slack.messages["DSILENT"]
    assert "2026-W48" in pulse["text"] and second["text"] == reminder["text"]
    skip = reminder["blocks"][0]["accessory"]
    assert skip["text"]["text"] == "Skip this week" and skip["value"] == str(round_id)


# ---------------------------------------------------------------- when


@pytest.mark.parametrize(
    ("when", "sent"),
    [
        ("2026-11-26 16:59", 1),  # 17:59 in Berlin: still the working day
        ("2026-11-26 17:00", 0),  # 18:00 in Berlin: too late
        ("2026-11-26 23:00", 0),  # midnight in Berlin
        ("2026-11-27 08:59", 0),  # 09:59 on Friday: before the pulse time
    ],
)
def test_reminders_go_out_only_in_local_working_hours(
    services: Services, slack: FakeSlack, round_id: int, when: str, sent: int
) -> None:
    assert remind(services, when).sent == 2 * sent


def test_a_reminder_due_in_the_evening_comes_the_next_working_morning(
    services: Services, slack: FakeSlack, round_id: int
) -> None:
    # The scheduler was down all Thursday; it runs again in the evening and through the night.
    for when in ("2026-11-26 17:00", "2026-11-26 22:00", "2026-11-27 03:00", "2026-11-27 08:55"):
        assert remind(services, when).sent == 0
    assert remind(services, "2026-11-27 09:00").sent == 2  # Friday 10:00 in Berlin
    assert sorted(reminded(slack)) == ["UQUIET", "USILENT"]


def test_each_person_is_reminded_in_their_own_working_hours(services: Services, slack: FakeSlack, db: Database) -> None:
    for user_id, tz in (("UTOKYO", TOKYO), ("UBERLIN", BERLIN), ("ULA", LOS_ANGELES)):
        factories.person(db, user_id, tz=tz)
    for ten_oclock in ("2026-11-24 01:00", "2026-11-24 09:00", "2026-11-24 18:00"):  # Tokyo, Berlin, Los Angeles
        with freeze_time(ten_oclock):
            run_pulse_job(db, services.messenger, services.behaviour)
    slack.reset_calls()
    remind(services, "2026-11-26 01:00")  # Thursday 10:00 in Tokyo
    assert reminded(slack) == ["UTOKYO"]
    remind(services, "2026-11-26 09:00")  # Thursday 10:00 in Berlin
    assert reminded(slack) == ["UTOKYO", "UBERLIN"]
    remind(services, "2026-11-26 17:59")  # 09:59 in Los Angeles
    assert reminded(slack) == ["UTOKYO", "UBERLIN"]
    remind(services, "2026-11-26 18:00")  # 10:00 in Los Angeles
    assert reminded(slack) == ["UTOKYO", "UBERLIN", "ULA"]


def test_a_reminder_due_on_the_weekend_comes_on_monday_morning(
    services: Services, slack: FakeSlack, db: Database
) -> None:
    factories.person(db, "USILENT", tz=BERLIN)
    # The scheduler was down on Tuesday and Wednesday: the pulse went out on Thursday at 10:00,
    # so the reminder falls due on Saturday.
    send_pulse(services, slack, "2026-11-26 09:00")
    for when in ("2026-11-28 09:00", "2026-11-28 15:00", "2026-11-29 09:00", "2026-11-29 15:00"):
        assert remind(services, when).sent == 0
    assert remind(services, "2026-11-30 08:55").sent == 0  # Monday 09:55 in Berlin
    assert remind(services, "2026-11-30 09:00").sent == 1  # Monday 10:00, before the round closes at noon UTC
    assert reminded(slack) == ["USILENT"]


@pytest.mark.parametrize(("when", "sent"), [("2026-11-30 11:59", 1), ("2026-11-30 12:00", 0), ("2026-12-01 09:00", 0)])
def test_no_reminder_once_the_round_has_closed(
    services: Services, slack: FakeSlack, db: Database, when: str, sent: int
) -> None:
    # The scheduler was down from Wednesday to Monday: the reminder is late, but is it too late?
    factories.person(db, "USILENT", tz=BERLIN)
    send_pulse(services, slack)
    assert remind(services, when).sent == sent
    assert reminded(slack) == ["USILENT"] * sent


def test_a_pulse_delivered_too_late_for_a_reminder_in_the_round_gets_none(
    services: Services, slack: FakeSlack, db: Database
) -> None:
    # Los Angeles got the pulse on Friday morning; 48 hours later it is Sunday, and by Monday
    # 10:00 in Los Angeles (18:00 UTC) the round has closed.
    factories.person(db, "ULA", tz=LOS_ANGELES)
    send_pulse(services, slack, "2026-11-27 18:00")
    for when in ("2026-11-29 18:00", "2026-11-30 18:00", "2026-12-01 18:00"):
        assert remind(services, when).sent == 0
    assert reminded(slack) == []


@pytest.mark.parametrize(("setting", "due", "not_yet"), [("24", "2026-11-25 09:00", "2026-11-25 08:59"), ("72", "2026-11-27 09:00", "2026-11-27 08:59")])
def test_the_reminder_delay_follows_the_behaviour_file(
    database_url: str, db: Database, slack: FakeSlack, tmp_path: Path, setting: str, due: str, not_yet: str
) -> None:
    config = tmp_path / "behaviour.yml"
    config.write_text(f"schedule:\n  reminder_after_hours: {setting}\n", encoding="utf-8")
    services = make_services(make_settings(database_url=database_url, slack_api_url=slack.url, pulse_config=config), db)
    factories.person(db, "USILENT", tz=BERLIN)
    send_pulse(services, slack)
    assert remind(services, not_yet).sent == 0
    assert remind(services, due).sent == 1
    assert reminded(slack) == ["USILENT"]


def test_reminders_can_be_turned_off(database_url: str, db: Database, slack: FakeSlack, tmp_path: Path) -> None:
    config = tmp_path / "behaviour.yml"
    config.write_text("schedule:\n  reminder_after_hours: null\n", encoding="utf-8")
    services = make_services(make_settings(database_url=database_url, slack_api_url=slack.url, pulse_config=config), db)
    factories.person(db, "USILENT", tz=BERLIN)
    send_pulse(services, slack)
    for when in (REMINDER_DUE, "2026-11-27 09:00", "2026-11-30 09:00"):
        assert remind(services, when).sent == 0
    assert reminded(slack) == []


def test_force_reminds_at_once_whatever_the_delay(services: Services, slack: FakeSlack, round_id: int) -> None:
    run = remind(services, "2026-11-24 13:00", force=True)  # four hours after the pulse
    assert run.sent == 2
    assert sorted(reminded(slack)) == ["UQUIET", "USILENT"]  # still never to those who answered, skipped or paused
    assert remind(services, REMINDER_DUE).sent == 0  # and that was their one reminder


# ---------------------------------------------------------------- pause and away


def test_a_person_paused_after_the_pulse_gets_no_reminder(services: Services, slack: FakeSlack, db: Database) -> None:
    factories.person(db, "UPAUSED", tz=BERLIN)
    send_pulse(services, slack)
    with freeze_time("2026-11-25 12:00"):
        pause(db, "UPAUSED", None)  # until resumed
    for when in (REMINDER_DUE, "2026-11-27 09:00", "2026-11-30 09:00"):
        assert remind(services, when).sent == 0
    assert reminded(slack) == []


def test_resuming_before_the_round_closes_brings_the_reminder_back(
    services: Services, slack: FakeSlack, db: Database
) -> None:
    factories.person(db, "URESUMED", tz=BERLIN)
    send_pulse(services, slack)
    with freeze_time("2026-11-25 12:00"):
        pause(db, "URESUMED", None)
    assert remind(services, REMINDER_DUE).sent == 0
    with freeze_time("2026-11-27 08:00"):
        resume(db, "URESUMED")
    assert remind(services, "2026-11-27 09:00").sent == 1
    assert reminded(slack) == ["URESUMED"]


def test_a_person_away_gets_the_reminder_when_back(services: Services, slack: FakeSlack, db: Database) -> None:
    factories.person(db, "UAWAY", tz=BERLIN)
    send_pulse(services, slack)
    with db.session() as session:  # a vacation status set on Wednesday, as the roster sync records it
        session.execute(update(Person).where(Person.slack_user_id == "UAWAY").values(away=True))
    assert remind(services, REMINDER_DUE).sent == 0
    with db.session() as session:
        session.execute(update(Person).where(Person.slack_user_id == "UAWAY").values(away=False))
    assert remind(services, "2026-11-27 09:00").sent == 1
    assert reminded(slack) == ["UAWAY"]


# ---------------------------------------------------------------- when Slack fails


def test_a_slack_hiccup_leaves_the_reminder_for_the_next_run(services: Services, slack: FakeSlack, round_id: int) -> None:
    # Slack is down for both silent people's reminders, every attempt.
    slack.fail("chat.postMessage", error="internal_error", times=2 * DELIVERY_ATTEMPTS)
    run = remind(services, REMINDER_DUE)
    assert (run.sent, run.stopped) == (0, "slack answer lost: internal_error")
    assert remind(services, "2026-11-26 09:05").sent == 2
    assert remind(services, "2026-11-26 09:10").sent == 0
    # Each silent person ends up with their pulse and exactly one reminder in their DM.
    assert len(slack.messages["DSILENT"]) == len(slack.messages["DQUIET"]) == 2


def test_an_account_slack_refuses_is_not_retried_and_does_not_hold_up_others(
    services: Services, slack: FakeSlack, round_id: int
) -> None:
    slack.add_user("UQUIET", deleted=True)  # deactivated in Slack after the pulse went out
    run = remind(services, REMINDER_DUE)
    assert (run.sent, run.failed) == (1, 1)
    assert remind(services, "2026-11-26 09:05").sent == 0
    assert sorted(reminded(slack)) == ["UQUIET", "USILENT"]  # one attempt each
    assert len(slack.messages["DSILENT"]) == 2


def test_several_answers_at_once_are_recorded_together_or_not_at_all(services: Services, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz=BERLIN)
    round_id = send_pulse(services, slack)
    with freeze_time("2026-11-24 12:00"):
        with pytest.raises(InvalidAnswer):
            record_answers(db, services.key, "UANNA", round_id, {"capability": 3, "workload": 99})
        assert stored.responses(db, services.key) == []
        view = record_answers(db, services.key, "UANNA", round_id, {"capability": 3, "workload": 1})
    assert view.chosen == {"capability": 3, "workload": 1}
    [answered] = stored.responses(db, services.key)
    assert set(answered.answers) == {"capability", "workload"} and not answered.skipped
