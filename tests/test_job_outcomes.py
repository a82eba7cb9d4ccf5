"""`pulse jobs run NAME` exits 1 when the job failed at what was due, so cron or a monitor notices,
and 0 when it did its work or had nothing to do. A council channel the bot cannot post in is
named in one line with the fix.

Tuesday 24 November 2026 09:30 UTC is 10:30 in Berlin, after the pulse of 2026-W48 is due.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.explainers import service as explainers
from bot.models import DigestPost, ExplainerQuestion
from bot.settings import Settings
from bot.slack.services import Services, make_services
from tests import factories
from tests.conftest import BOT_TOKEN, PSEUDONYM_KEY
from tests.slack_server import FakeSlack
from tests.test_explainers import COLLEAGUES, THURSDAY, sent_to

Jobs = Callable[..., tuple[int, str, str]]

PULSE_DUE = "2026-11-24 09:30"
DIGEST_DUE = "2026-11-30 14:00"


@pytest.fixture
def jobs(
    monkeypatch: pytest.MonkeyPatch, database_url: str, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> Jobs:
    """`pulse jobs run …` at a frozen time; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("PULSE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    monkeypatch.setenv("PULSE_COUNCIL_CHANNEL", "CCOUNCIL")

    def run(when: str, *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with freeze_time(when), pytest.raises(SystemExit) as exit_info:
            main(["jobs", "run", *args])
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    return run


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("pulse: "), err
    assert "Traceback" not in err
    return err


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/"


# ---------------------------------------------------------------- fan-outs


def test_a_pulse_that_reached_everyone_exits_0_and_a_second_run_with_nothing_to_do_too(
    jobs: Jobs, db: Database, slack: FakeSlack
) -> None:
    factories.person(db, "UANNA", tz="Europe/Berlin")

    assert jobs(PULSE_DUE, "pulse")[:2] == (0, "pulse 2026-W48: sent 1, failed 0, held back while away 0\n")
    assert jobs(PULSE_DUE, "pulse")[:2] == (0, "pulse 2026-W48: sent 0, failed 0, held back while away 0\n")


def test_a_pulse_someone_can_never_receive_exits_1_and_says_so(jobs: Jobs, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz="Europe/Berlin")
    factories.person(db, "UGONE", tz="Europe/Berlin")
    slack.add_user("UGONE", deleted=True)  # deactivated in Slack since the last roster sync

    code, out, err = jobs(PULSE_DUE, "pulse")

    assert code == 1 and out == ""
    assert one_line(err) == "pulse: pulse 2026-W48: sent 1, failed 1, held back while away 0\n"
    # The failure is recorded: the next run has nothing left to do, and says so with 0.
    assert jobs(PULSE_DUE, "pulse")[0] == 0


def test_the_failure_is_the_one_line_on_stderr_of_a_real_process(database_url: str, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UGONE", tz="Europe/Berlin")
    slack.add_user("UGONE", deleted=True)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "PULSE_PSEUDONYM_KEY": PSEUDONYM_KEY,
    }

    # psycopg's C extension is loaded before the clock is frozen, as it is in a real process.
    child = f"import psycopg\nfrom freezegun import freeze_time\nfrom bot.cli import main\nwith freeze_time({PULSE_DUE!r}):\n    main(['jobs', 'run', 'pulse'])"

    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60, env=env, check=False)

    assert result.returncode == 1 and result.stdout == ""
    assert one_line(result.stderr) == "pulse: pulse 2026-W48: sent 0, failed 1, held back while away 0\n"


def test_a_pulse_stopped_because_slack_is_unreachable_exits_1_with_the_reason(
    jobs: Jobs, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    factories.person(db, "UANNA", tz="Europe/Berlin")
    monkeypatch.setenv("SLACK_API_URL", closed_port())

    code, _, err = jobs(PULSE_DUE, "pulse")

    assert code == 1
    assert "sent 0" in one_line(err) and "stopped early: slack unreachable: connection refused" in err


def test_reminders_and_explainers_with_nobody_due_exit_0(jobs: Jobs, db: Database) -> None:
    factories.person(db, "UANNA", tz="Europe/Berlin")

    assert jobs(PULSE_DUE, "reminders")[:2] == (0, "reminders: sent 0, failed 0\n")
    code, out, _ = jobs(PULSE_DUE, "explainers")
    assert code == 0 and out.startswith("explainers none due: sent 0")


# ---------------------------------------------------------------- the council channel


@pytest.fixture
def pulse_went_out(jobs: Jobs, db: Database) -> None:
    """W48's pulse reached someone, so the week has a digest to post."""
    factories.person(db, "UANNA", tz="Europe/Berlin")
    assert jobs("2026-11-24 09:30", "pulse")[0] == 0


def test_a_digest_the_bot_cannot_post_exits_1_with_the_invite_that_fixes_it(
    jobs: Jobs, db: Database, slack: FakeSlack, pulse_went_out: None
) -> None:
    slack.add_channel("CCOUNCIL", "ai-council", member=False)

    code, out, err = jobs(DIGEST_DUE, "digest")

    assert code == 1 and out == ""
    assert one_line(err) == (
        "pulse: digest 2026-W48: not posted: the bot is not a member of #ai-council "
        "(PULSE_COUNCIL_CHANNEL=CCOUNCIL): invite @Rollout Pulse to #ai-council with "
        "`/invite @Rollout Pulse`, or set PULSE_COUNCIL_CHANNEL to a channel it is in\n"
    )
    with db.session() as session:
        assert session.scalars(select(DigestPost.status)).all() == ["failed"]

    slack.add_channel("CCOUNCIL", "ai-council", member=True)  # someone typed /invite @Rollout Pulse
    assert jobs("2026-11-30 14:05", "digest")[:2] == (0, "digest 2026-W48: posted\n")
    # Posted once: a later run has nothing to do, which is no failure.
    assert jobs("2026-11-30 14:10", "digest")[:2] == (0, "digest 2026-W48: not posted (already posted or being posted)\n")
    assert len(slack.messages["CCOUNCIL"]) == 1


def test_a_private_council_channel_the_bot_is_not_in_is_named_with_both_fixes(
    jobs: Jobs, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, pulse_went_out: None
) -> None:
    monkeypatch.setenv("PULSE_COUNCIL_CHANNEL", "GSECRET")
    slack.add_channel("GSECRET", "council", private=True, member=False)

    code, _, err = jobs(DIGEST_DUE, "digest")

    assert code == 1
    assert one_line(err) == (
        "pulse: digest 2026-W48: not posted: Slack shows the bot no channel GSECRET "
        "(PULSE_COUNCIL_CHANNEL): if it is a private channel, invite @Rollout Pulse to it with "
        "`/invite @Rollout Pulse`; otherwise set PULSE_COUNCIL_CHANNEL to the channel's ID "
        "(channel details, at the bottom of About)\n"
    )


def test_a_digest_not_due_yet_exits_0(jobs: Jobs) -> None:
    assert jobs("2026-11-30 13:59", "digest")[:2] == (0, "digest -: not posted (not due yet this week)\n")


@pytest.fixture
def services(settings: Settings, db: Database) -> Services:
    return make_services(settings, db)


def test_questions_the_council_channel_will_not_take_exit_1_and_wait_for_the_next_batch(
    jobs: Jobs, services: Services, db: Database, slack: FakeSlack
) -> None:
    sent_to(services, db, "UANNA", *COLLEAGUES)
    slack.add_channel("CCOUNCIL", "ai-council", member=False)
    with freeze_time(f"{THURSDAY} 11:00"):
        explainers.ask_question(
            db, services.messenger, "CCOUNCIL", "UANNA", "what-changes-at-go-live", "Who checks the drafts?",
            named=True, min_group=services.min_group,
        )

    code, _, err = jobs(f"{THURSDAY} 14:00", "questions")

    assert code == 1
    assert one_line(err).startswith(f"pulse: questions {THURSDAY}: posted 0, held 0, failed 1: the bot is not a member of #ai-council")
    with db.session() as session:
        assert session.scalars(select(ExplainerQuestion.message_ts)).all() == [None]  # kept for the next batch
