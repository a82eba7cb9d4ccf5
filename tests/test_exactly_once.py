"""Each weekly DM reaches each person exactly once: through 429s, 5xx, lost answers and slow
answers from Slack, through two schedulers running at once, and through a process killed half-way.

Tuesday 24 November 2026 09:00 UTC is 10:00 in Berlin, when the pulse of 2026-W48 goes out.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.delivery import LiveRun, StatusLedger, start_run
from bot.explainers.library import load_library
from bot.explainers.service import run_explainer_job
from bot.models import Delivery, ExplainerDelivery, JobRun
from bot.rollouts.service import add_rollout
from bot.settings import Settings
from bot.slack.app import Services, make_services
from bot.slack.client import make_web_client
from bot.slack.messenger import SlackMessenger
from bot.surveys.service import (
    PulseRun,
    blank_view,
    claim_pulses,
    queue_due_pulses,
    run_pulse_job,
    run_reminder_job,
)
from bot.weeks import IsoWeek, now
from tests import factories
from tests.conftest import BOT_TOKEN, PSEUDONYM_KEY
from tests.slack_server import FakeSlack

BERLIN = "Europe/Berlin"
PULSE_GOES_OUT = "2026-11-24 09:00"
REMINDER_DUE = "2026-11-26 09:00"  # 48 hours later


@pytest.fixture
def services(settings: Settings, db: Database) -> Services:
    return make_services(settings, db)


def people(db: Database, count: int, prefix: str = "U") -> list[str]:
    user_ids = [f"{prefix}{index:04d}X" for index in range(count)]
    for user_id in user_ids:
        factories.person(db, user_id, tz=BERLIN)
    return user_ids


def dms(slack: FakeSlack, kind: str) -> Counter[str]:
    """How many DMs of this kind each person has in Slack, by user id."""
    found: Counter[str] = Counter()
    for channel, messages in slack.messages.items():
        for message in messages:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("kind") == kind:
                found["U" + channel[1:]] += 1
    return found


def send_pulse(services: Services, messenger: SlackMessenger | None = None, when: str = PULSE_GOES_OUT) -> PulseRun:
    with freeze_time(when):
        return run_pulse_job(services.db, messenger or services.messenger, services.behaviour)


def statuses(db: Database) -> Counter[str]:
    with db.session() as session:
        return Counter(session.scalars(select(Delivery.status)))


def on_post(slack: FakeSlack, nth: int, action: Callable[[], None]) -> None:
    slack.when_processed("chat.postMessage", nth, action)


# ---------------------------------------------------------------- Slack's faults


LOST_ANSWERS = {
    "a 500 after posting": lambda slack: slack.fail("chat.postMessage", status=500, processed=True),
    "a dropped connection after posting": lambda slack: slack.drop("chat.postMessage"),
    "internal_error after posting": lambda slack: slack.fail("chat.postMessage", error="internal_error", processed=True),
}


@pytest.mark.parametrize("lose", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
def test_a_pulse_posted_but_not_acknowledged_is_found_in_the_dm_not_sent_again(
    services: Services, slack: FakeSlack, db: Database, lose: Callable[[FakeSlack], None]
) -> None:
    everyone = people(db, 5)
    on_post(slack, 2, lambda: lose(slack))  # the third DM is posted, but Slack's answer is lost

    run = send_pulse(services)

    assert dms(slack, "pulse") == Counter({user_id: 1 for user_id in everyone})
    assert run.sent == 5 and run.stopped is None
    assert statuses(db) == Counter({"sent": 5})
    # It was found by reading that one person's DM, with the metadata naming the delivery.
    [look_up] = slack.calls_to("conversations.history")
    assert look_up.params["channel"] in {"D" + user_id[1:] for user_id in everyone}
    assert look_up.params["include_all_metadata"] in ("1", "true", True)


def test_a_pulse_refused_with_a_5xx_before_posting_is_sent_again_once(
    services: Services, slack: FakeSlack, db: Database
) -> None:
    everyone = people(db, 3)
    slack.fail("chat.postMessage", status=503)
    slack.drop("chat.postMessage", processed=False)

    run = send_pulse(services)

    assert run.sent == 3
    assert dms(slack, "pulse") == Counter({user_id: 1 for user_id in everyone})
    assert len(slack.calls_to("chat.postMessage")) == 5  # two refused, then three posted


def test_an_answer_slower_than_the_client_waits_does_not_double_the_dm(
    services: Services, slack: FakeSlack, db: Database
) -> None:
    everyone = people(db, 3)
    impatient = SlackMessenger(make_web_client(BOT_TOKEN, slack.url, timeout=1), min_group=5)
    slack.slow("chat.postMessage", 2.0, processed=True)  # posted at once, answered after the client gave up

    run = send_pulse(services, impatient)

    assert run.sent == 3
    assert dms(slack, "pulse") == Counter({user_id: 1 for user_id in everyone})
    assert statuses(db) == Counter({"sent": 3})


def test_a_fan_out_through_every_kind_of_fault_reaches_everyone_once(
    services: Services, slack: FakeSlack, db: Database
) -> None:
    everyone = people(db, 30)
    # In arrival order: rate limited twice, refused, posted-then-500, dropped, slow, refused again.
    slack.fail("chat.postMessage", status=429, retry_after=0, times=2)
    slack.fail("chat.postMessage", status=503)
    slack.fail("chat.postMessage", status=500, processed=True)
    slack.drop("chat.postMessage")
    slack.slow("chat.postMessage", 0.2, times=5)
    slack.fail("chat.postMessage", status=502)
    slack.fail("conversations.history", status=429, retry_after=0)  # the look-up is rate limited too

    run = send_pulse(services)

    assert run.sent == 30 and run.failed == 0 and run.stopped is None
    assert dms(slack, "pulse") == Counter({user_id: 1 for user_id in everyone})
    assert statuses(db) == Counter({"sent": 30})


def test_when_slack_stays_down_the_dm_it_may_have_posted_is_looked_for_on_the_next_run(
    services: Services, slack: FakeSlack, db: Database
) -> None:
    everyone = people(db, 4)
    # The first DM is posted but Slack answers 500, and then cannot even say what it posted.
    slack.fail("chat.postMessage", status=500, processed=True)
    slack.fail("conversations.open", error="internal_error")

    first = send_pulse(services)
    assert first.stopped == "internal_error"
    assert dms(slack, "pulse")[everyone[0]] == 1  # posted, though Slack said otherwise
    assert statuses(db)["sent"] == first.sent < 4

    # The first run is over: what it left to be looked up is free half a minute after its last heartbeat.
    second = send_pulse(services, when="2026-11-24 09:00:31")

    assert second.recovered == 1  # the first DM, found in the DM's history
    assert first.sent + second.sent == 3
    assert dms(slack, "pulse") == Counter({user_id: 1 for user_id in everyone})
    assert statuses(db) == Counter({"sent": 4})


def test_a_reminder_whose_answer_was_lost_is_not_sent_twice(services: Services, slack: FakeSlack, db: Database) -> None:
    everyone = people(db, 3)
    send_pulse(services)
    slack.drop("chat.postMessage")

    with freeze_time(REMINDER_DUE):
        run = run_reminder_job(services.db, services.messenger, services.behaviour, services.key)

    assert run.sent == 3
    assert dms(slack, "reminder") == Counter({user_id: 1 for user_id in everyone})


def test_an_explainer_whose_answer_was_lost_is_not_sent_twice(services: Services, slack: FakeSlack, db: Database) -> None:
    everyone = people(db, 3)  # in Sales, which went live on Monday
    add_rollout(db, "Forecast assistant", IsoWeek.parse("2026-W48").day(1), ["Sales"])
    slack.fail("chat.postMessage", status=500, processed=True)

    with freeze_time("2026-11-26 09:00"):  # Thursday, explainer day
        run = run_explainer_job(services.db, services.messenger, services.behaviour, load_library())

    assert run.sent == 3
    assert dms(slack, "explainer") == Counter({user_id: 1 for user_id in everyone})
    with db.session() as session:
        assert set(session.scalars(select(ExplainerDelivery.status))) == {"sent"}


# ---------------------------------------------------------------- two schedulers


def test_two_schedulers_at_once_split_the_fan_out_and_send_each_dm_once(
    settings: Settings, database_url: str, slack: FakeSlack, db: Database
) -> None:
    everyone = people(db, 450)  # more than two claim batches
    slack.slow("chat.postMessage", 0.002, times=450)  # long enough for the two runs to overlap
    clocks = [Database(database_url), Database(database_url)]  # as two processes: own connections
    runs: list[PulseRun] = []
    start = threading.Barrier(2)

    def scheduler(database: Database) -> None:
        clock_services = make_services(settings, database)
        start.wait()
        runs.append(run_pulse_job(database, clock_services.messenger, clock_services.behaviour))

    with freeze_time(PULSE_GOES_OUT):
        threads = [threading.Thread(target=scheduler, args=(database,)) for database in clocks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    for database in clocks:
        database.dispose()

    assert dms(slack, "pulse") == Counter({user_id: 1 for user_id in everyone})
    assert len(slack.calls_to("chat.postMessage")) == 450
    assert len(runs) == 2 and all(run.sent > 0 for run in runs)  # both took a share
    assert sum(run.sent for run in runs) == 450
    assert statuses(db) == Counter({"sent": 450})


# ---------------------------------------------------------------- a run that died holding claims


@pytest.fixture
def pulse_cli(
    monkeypatch: pytest.MonkeyPatch, database_url: str, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> Callable[[str], tuple[int, str]]:
    """`pulse jobs run pulse` as an operator (or the clock) runs it, at a frozen time."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("PULSE_PSEUDONYM_KEY", PSEUDONYM_KEY)

    def run(when: str) -> tuple[int, str]:
        capsys.readouterr()
        with freeze_time(when), pytest.raises(SystemExit) as exit_info:
            main(["jobs", "run", "pulse"])
        return int(exit_info.value.code or 0), capsys.readouterr().out

    return run


def claim_everyone(services: Services, run_id: int, *, posted: int, recorded: int) -> None:
    """A pulse run that queued and claimed everyone and posted `posted` DMs, of which it recorded
    only `recorded` as sent before it stopped."""
    at = now()
    queue_due_pulses(services.db, services.behaviour, at=at)
    claims = claim_pulses(services.db, at, lambda: run_id)
    ledger = StatusLedger(services.db, Delivery, at, lambda: run_id)
    for index, claim in enumerate(claims[:posted]):
        ref = services.messenger.send_pulse(claim.user_id, blank_view(claim.pulse_round), delivery_id=claim.delivery_id)
        if index < recorded:
            ledger.sent([(claim, ref)])


def test_a_run_that_died_holding_claims_is_taken_over_half_a_minute_later_and_nobody_gets_two(
    services: Services, slack: FakeSlack, db: Database, pulse_cli: Callable[[str], tuple[int, str]]
) -> None:
    everyone = people(db, 30)
    with freeze_time(PULSE_GOES_OUT):
        # It claimed, posted twelve, recorded nine, and died: its heartbeat never comes again.
        claim_everyone(services, start_run(db, "pulse"), posted=12, recorded=9)
    assert statuses(db) == Counter({"sent": 9, "sending": 21})

    code, out = pulse_cli("2026-11-24 09:00:20")  # its last heartbeat is 20 s old: it may be alive
    assert code == 0 and "sent 0" in out
    assert sum(dms(slack, "pulse").values()) == 12

    code, out = pulse_cli("2026-11-24 09:00:31")

    assert code == 0, out
    assert "sent 18," in out and "found already sent 3" in out
    assert dms(slack, "pulse") == Counter({user_id: 1 for user_id in everyone})
    assert statuses(db) == Counter({"sent": 30})
    with db.session() as session:  # neither run's record is kept once nothing names it
        assert session.scalars(select(JobRun)).all() == []


def test_a_slow_run_that_keeps_its_heartbeat_keeps_its_claims(
    services: Services, slack: FakeSlack, db: Database, pulse_cli: Callable[[str], tuple[int, str]]
) -> None:
    everyone = people(db, 30)
    slow = LiveRun(db, "pulse", every=dt.timedelta(hours=1))  # it beats when the test says so
    try:
        with freeze_time(PULSE_GOES_OUT):
            claim_everyone(services, slow.id, posted=5, recorded=5)
        with freeze_time("2026-11-24 09:05:00"):
            slow.beat()  # still at work five minutes on, waiting on Slack

        code, out = pulse_cli("2026-11-24 09:05:20")
        assert code == 0 and "sent 0" in out
        assert sum(dms(slack, "pulse").values()) == 5
    finally:
        slow.finish()

    # It is gone now: 31 s after its last heartbeat, the next run finishes its work.
    code, out = pulse_cli("2026-11-24 09:05:31")
    assert code == 0 and "sent 25," in out
    assert dms(slack, "pulse") == Counter({user_id: 1 for user_id in everyone})


# ---------------------------------------------------------------- a real process, killed


CHILD = """
import sys
from freezegun import freeze_time
from bot.cli import main
with freeze_time(sys.argv[1]):
    main(["jobs", "run", sys.argv[2]])
"""


@dataclass
class Job:
    process: subprocess.Popen[str]
    out: str = ""

    @property
    def code(self) -> int:
        return self.process.returncode


@contextmanager
def job_process(database_url: str, slack: FakeSlack, when: str, job: str) -> Iterator[Job]:
    """`pulse jobs run JOB` in a process of its own at a frozen time, as the clock would run it.

    The test's clock is frozen at the same time throughout, so the local Slack server stamps the
    DMs the process posts with the time the process believes it is."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.url,
        "PULSE_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "PULSE_COUNCIL_CHANNEL": "CCOUNCIL",
    }
    with freeze_time(when):
        process = subprocess.Popen(
            [sys.executable, "-c", CHILD, when, job],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        running = Job(process)
        yield running
        running.out, _ = process.communicate()


def run_to_end(database_url: str, slack: FakeSlack, when: str, job: str) -> tuple[int, str]:
    with job_process(database_url, slack, when, job) as finished:
        pass
    return finished.code, finished.out


def kill_after_post(slack: FakeSlack, nth: int, job: Job) -> None:
    """SIGKILL the process once its nth DM is posted, before Slack's answer reaches it."""
    on_post(slack, nth, lambda: os.kill(job.process.pid, signal.SIGKILL))


def test_a_pulse_run_killed_half_way_and_restarted_sends_no_dm_twice_and_misses_none(
    database_url: str, slack: FakeSlack, db: Database
) -> None:
    everyone = people(db, 30)

    with job_process(database_url, slack, PULSE_GOES_OUT, "pulse") as killed:
        kill_after_post(slack, 12, killed)
    assert killed.code == -signal.SIGKILL
    slack.settle()  # DMs that were in flight when it died
    posted = sum(dms(slack, "pulse").values())
    before = statuses(db)
    assert before["sent"] + before["sending"] == 30
    unrecorded = posted - before["sent"]
    assert unrecorded >= 1  # at least the 12th went out, and the run never learnt it

    # Ten seconds on, the run might still be alive (its heartbeat is fresh): its claims are left alone.
    code, out = run_to_end(database_url, slack, "2026-11-24 09:00:10", "pulse")
    assert code == 0 and "sent 0" in out
    assert sum(dms(slack, "pulse").values()) == posted

    # Half a minute without a heartbeat: the claims are taken over, and what went out is found, not resent.
    code, out = run_to_end(database_url, slack, "2026-11-24 09:00:31", "pulse")
    assert code == 0, out
    assert f"sent {30 - posted}," in out and f"found already sent {unrecorded}" in out
    assert dms(slack, "pulse") == Counter({user_id: 1 for user_id in everyone})
    assert statuses(db) == Counter({"sent": 30})


def test_a_reminder_run_killed_half_way_and_restarted_reminds_everyone_once(
    services: Services, database_url: str, slack: FakeSlack, db: Database
) -> None:
    everyone = people(db, 30)
    send_pulse(services)

    with job_process(database_url, slack, REMINDER_DUE, "reminders") as killed:
        kill_after_post(slack, 30 + 12, killed)  # thirty pulses, then the twelfth reminder
    assert killed.code == -signal.SIGKILL
    slack.settle()
    posted = sum(dms(slack, "reminder").values())
    with db.session() as session:
        recorded = Counter(session.scalars(select(Delivery.reminder_status)))
    unrecorded = posted - recorded["sent"]
    assert posted >= 12 and unrecorded >= 1

    code, out = run_to_end(database_url, slack, "2026-11-26 09:00:31", "reminders")

    assert code == 0, out
    assert f"sent {30 - posted}," in out and f"found already sent {unrecorded}" in out
    assert dms(slack, "reminder") == Counter({user_id: 1 for user_id in everyone})
    with db.session() as session:
        assert set(session.scalars(select(Delivery.reminder_status))) == {"sent"}

