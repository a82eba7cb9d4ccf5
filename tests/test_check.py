"""`pulse check` as an operator runs it before going live, against the local Slack-compatible
server and both databases: what is fine on stdout, every problem on stderr (one line each, with
its fix), exit 1 when there is any."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.db import Database
from bot.migrate import upgrade
from tests.conftest import BOT_TOKEN, POSTGRES_URL, PSEUDONYM_KEY, SIGNING_SECRET
from tests.databases import scratch_schema
from tests.slack_server import FakeSlack, manifest_bot_scopes

HEAD = "0016"


@pytest.fixture
def ready(monkeypatch: pytest.MonkeyPatch, database_url: str, db: Database, slack: FakeSlack) -> pytest.MonkeyPatch:
    """A deployment with everything in place: settings, an installed app, the bot in #ai-council."""
    for name, value in {
        "DATABASE_URL": database_url,
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "PULSE_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "PULSE_COUNCIL_CHANNEL": "C0COUNCIL",
    }.items():
        monkeypatch.setenv(name, value)
    slack.add_channel("C0COUNCIL", "ai-council", member=True)
    return monkeypatch


def check(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], list[str]]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["check"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return int(exit_info.value.code or 0), out.splitlines(), err.splitlines()


def subjects(lines: list[str]) -> list[str]:
    return [line.split(": ", 2)[1] for line in lines]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_ready_deployment_passes_every_check(
    ready: pytest.MonkeyPatch, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = check(capsys)

    assert (code, err) == (0, [])
    assert out[0] == (
        "ok: settings: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, PULSE_PSEUDONYM_KEY, PULSE_COUNCIL_CHANNEL set; behaviour built-in"
    )
    assert out[1] == "ok: Slack: the token works for @pulse in Test (auth.test)"
    assert out[2] == f"ok: scopes: all {len(manifest_bot_scopes())} bot scopes manifest.yml asks for are granted"
    assert out[3] == "ok: council channel: the bot is a member of #ai-council (C0COUNCIL)"
    assert out[4].startswith("ok: database: ") and out[4].endswith(f"answers; its schema is current ({HEAD})")
    assert len(out) == 5
    # One call each, and it read nothing else.
    assert [call.method for call in slack.calls] == ["auth.test", "conversations.info"]


def test_every_problem_is_named_at_once_with_its_fix_and_what_is_fine_is_still_said(
    ready: pytest.MonkeyPatch, slack: FakeSlack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ready.delenv("SLACK_SIGNING_SECRET")
    ready.delenv("PULSE_PSEUDONYM_KEY")
    slack.scopes -= {"im:history", "users:read.email"}  # installed from an older manifest
    slack.add_channel("C0COUNCIL", "ai-council", member=False)
    ready.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never-upgraded.sqlite3'}")

    code, out, err = check(capsys)

    assert code == 1
    assert err == [
        "problem: settings: SLACK_SIGNING_SECRET is not set: set it to the Signing Secret from the app's Basic Information page",
        "problem: settings: PULSE_PSEUDONYM_KEY is not set: set it to a secret of 16 or more characters, "
        "kept stable (answers are sealed with it)",
        "problem: scopes: the token lacks im:history, users:read.email, which manifest.yml asks for: add them to the "
        "app's bot scopes (OAuth & Permissions, or update the app from manifest.yml), reinstall the app and copy the new token",
        "problem: council channel: the bot is not a member of #ai-council (PULSE_COUNCIL_CHANNEL=C0COUNCIL): "
        "invite @Rollout Pulse to #ai-council with `/invite @Rollout Pulse`, or set PULSE_COUNCIL_CHANNEL to a channel it is in",
        f"problem: database: the SQLite database {tmp_path / 'never-upgraded.sqlite3'} does not exist yet: "
        "run `pulse db upgrade` to create it",
    ]
    assert out == [
        "ok: settings: SLACK_BOT_TOKEN, PULSE_COUNCIL_CHANNEL set; behaviour built-in",
        "ok: Slack: the token works for @pulse in Test (auth.test)",
    ]
    assert not (tmp_path / "never-upgraded.sqlite3").exists()  # checking created nothing


def test_a_refused_token_is_named_and_what_depends_on_it_is_not_checked(
    ready: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ready.setenv("SLACK_BOT_TOKEN", "xoxb-from-an-old-install")

    code, out, err = check(capsys)

    assert code == 1
    assert err == [
        "problem: Slack: Slack refused SLACK_BOT_TOKEN (auth.test): invalid_auth: SLACK_BOT_TOKEN is not a token "
        "Slack knows; copy the Bot User OAuth Token again (Install App)"
    ]
    assert "skipped: scopes: not checked: the token does not work" in out
    assert "skipped: council channel: not checked: the token does not work" in out
    assert subjects(out) == ["settings", "scopes", "council channel", "database"]


def test_slack_out_of_reach_is_named_with_why(ready: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    port = closed_port()
    ready.setenv("SLACK_API_URL", f"http://127.0.0.1:{port}/api/")

    code, _, err = check(capsys)

    assert code == 1
    assert err == [f"problem: Slack: cannot reach Slack at http://127.0.0.1:{port}/api/: connection refused by 127.0.0.1:{port}"]


def test_a_council_channel_slack_does_not_show_the_bot_is_named_with_both_fixes(
    ready: pytest.MonkeyPatch, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    ready.setenv("PULSE_COUNCIL_CHANNEL", "GPRIVATE")
    slack.add_channel("GPRIVATE", "council", private=True, member=False)

    code, _, err = check(capsys)

    assert code == 1
    assert err == [
        "problem: council channel: Slack shows the bot no channel GPRIVATE (PULSE_COUNCIL_CHANNEL): if it is a "
        "private channel, invite @Rollout Pulse to it with `/invite @Rollout Pulse`; otherwise set "
        "PULSE_COUNCIL_CHANNEL to the channel's ID (channel details, at the bottom of About)"
    ]


def test_without_channels_read_the_membership_cannot_be_told_and_the_scope_is_named(
    ready: pytest.MonkeyPatch, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.scopes.discard("channels:read")

    code, _, err = check(capsys)

    assert code == 1
    assert subjects(err) == ["scopes", "council channel"]
    assert err[0].startswith("problem: scopes: the token lacks channels:read, which manifest.yml asks for")
    assert err[1] == (
        "problem: council channel: cannot tell whether the bot is in C0COUNCIL: missing_scope: the app needs "
        "channels:read; add it (manifest.yml) and reinstall the app"
    )


def test_a_database_that_cannot_be_reached_is_named_by_host_not_sent_to_db_upgrade(
    ready: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = closed_port()
    ready.setenv("DATABASE_URL", f"postgresql+psycopg://pulse@127.0.0.1:{port}/pulse")

    code, out, err = check(capsys)

    assert code == 1
    [line] = err
    assert line.startswith(f"problem: database: cannot connect to the database at 127.0.0.1:{port} (database pulse): ")
    assert "db upgrade" not in line
    assert subjects(out) == ["settings", "Slack", "scopes", "council channel"]  # the rest is fine, and said


@pytest.fixture
def behind(tmp_path: Path) -> Iterator[list[str]]:
    """A SQLite file and a PostgreSQL schema, each migrated only to 0010."""
    with scratch_schema(POSTGRES_URL, "pulse_behind") as postgresql:
        urls = [f"sqlite:///{tmp_path / 'behind.sqlite3'}", postgresql]
        for url in urls:
            database = Database(url)
            upgrade(database.engine, "0010", min_group_size=5, pseudonym_key=PSEUDONYM_KEY)
            database.dispose()
        yield urls


def test_a_database_whose_schema_is_behind_is_sent_to_db_upgrade(
    ready: pytest.MonkeyPatch, behind: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for url in behind:
        ready.setenv("DATABASE_URL", url)

        code, _, err = check(capsys)

        assert code == 1
        [line] = err
        assert line.startswith("problem: database: the ")
        assert line.endswith(f"has schema 0010, this version needs {HEAD}: run `pulse db upgrade`")


def test_a_malformed_setting_is_named_and_the_checks_that_need_it_are_skipped(
    ready: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ready.setenv("SLACK_BOT_TOKEN", "xoxp-a-user-token")
    ready.setenv("DATABASE_URL", "mysql://pulse@db.internal/pulse")

    code, out, err = check(capsys)

    assert code == 1
    assert err == [
        "problem: settings: SLACK_BOT_TOKEN: must be a bot token starting with xoxb-",
        "problem: settings: DATABASE_URL: mysql is not supported; Rollout Pulse runs on SQLite or PostgreSQL "
        "(sqlite:///pulse.sqlite3 or postgresql+psycopg://user@host/db)",
    ]
    assert "skipped: Slack: not checked: fix the Slack settings first" in out
    assert "skipped: database: not checked: fix DATABASE_URL first" in out


def test_a_question_bank_without_capability_says_what_it_switches_off(
    ready: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scale = "      kind: scale\n      favourable_at_least: 4\n      options:\n" + "".join(
        f"        - {{label: \"{n}\", value: {n}}}\n" for n in range(1, 6))
    hours = "      kind: hours\n      options:\n        - {label: \"None\", value: 0}\n        - {label: \"Some\", value: 2}\n"
    config = tmp_path / "behaviour.yml"
    config.write_text(
        "questions:\n  core:\n"
        "    - key: trust\n      text: Do you trust what the AI produces?\n" + scale +
        "    - key: workload\n      text: How sustainable was your workload?\n" + scale +
        "    - key: time_saved\n      text: Time saved?\n" + hours +
        "    - key: upkeep\n      text: Time on AI upkeep?\n" + hours,
        encoding="utf-8",
    )
    ready.setenv("PULSE_CONFIG", str(config))
    code, out, err = check(capsys)
    assert (code, err) == (0, [])
    notes = [line for line in out if line.startswith("ok: question bank: ")]
    assert notes == [
        "ok: question bank: The question bank has no `capability` question: capability alerts (low, dropping), "
        "time-to-competency and pause signals from capability are off.",
        "ok: question bank: The question bank has no `workaround` question: the workaround alert is off.",
    ]
