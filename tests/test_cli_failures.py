"""What goes wrong around the program, as an operator meets it on the command line: a database
URL it cannot use, a database it cannot reach, a demo folder it cannot write, Slack out of reach
during a roster import, settings missing. Each is one line on stderr with exit code 1, never a
traceback, and says what to do."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import bot.slack.client
from bot.cli import main
from bot.db import Database
from tests.conftest import BOT_TOKEN, POSTGRES_URL, PSEUDONYM_KEY
from tests.databases import scratch_schema
from tests.slack_server import FakeSlack

Pulse = Callable[..., tuple[int, str, str]]


@pytest.fixture
def pulse(capsys: pytest.CaptureFixture[str]) -> Pulse:
    """Run the `pulse` command in-process; return (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    return run


def failure(result: tuple[int, str, str]) -> str:
    """The one line a failing command printed on stderr, without its `pulse: ` prefix."""
    code, out, err = result
    assert code == 1, (out, err)
    assert out == ""
    assert err.startswith("pulse: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err.removeprefix("pulse: ").removesuffix("\n")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def empty_postgresql() -> Iterator[str]:
    """A PostgreSQL schema of its own with nothing in it yet."""
    with scratch_schema(POSTGRES_URL, "pulse_empty") as url:
        yield url


# ---------------------------------------------------------------- DATABASE_URL


def test_a_database_the_app_does_not_run_on_is_named_with_what_it_runs_on(
    pulse: Pulse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://pulse@db.internal/pulse")

    line = failure(pulse("rollout", "list"))

    assert line.startswith("DATABASE_URL: mysql is not supported; Rollout Pulse runs on SQLite or PostgreSQL")
    assert "postgresql+psycopg://" in line


def test_a_driver_that_is_not_installed_is_named_with_the_one_that_is(pulse: Pulse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://pulse@db.internal/pulse")

    line = failure(pulse("db", "upgrade"))

    assert line.startswith("DATABASE_URL: the psycopg2 driver for postgresql is not installed; write postgresql+psycopg://")


def test_a_postgres_url_as_hosting_platforms_write_it_uses_psycopg(
    pulse: Pulse, monkeypatch: pytest.MonkeyPatch, empty_postgresql: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_postgresql.replace("postgresql+psycopg://", "postgres://", 1))

    assert pulse("db", "upgrade") == (0, "Database is up to date.\n", "")
    assert pulse("rollout", "list")[:2] == (0, "No rollouts yet. Add one with: pulse rollout add NAME --go-live YYYY-MM-DD --teams A,B\n")


def test_several_bad_settings_are_named_in_one_line(pulse: Pulse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "oracle://db.internal/pulse")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-a-user-token")
    monkeypatch.setenv("PULSE_PSEUDONYM_KEY", "short")

    line = failure(pulse("jobs", "run", "pulse"))

    assert "SLACK_BOT_TOKEN: must be a bot token starting with xoxb-" in line
    assert "DATABASE_URL: oracle is not supported" in line
    assert "PULSE_PSEUDONYM_KEY: must be at least 16 characters" in line


# ---------------------------------------------------------------- a database out of reach


def test_a_postgresql_server_that_refuses_is_named_by_host_and_never_sent_to_db_upgrade(
    pulse: Pulse, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = closed_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://pulse:secret-password@127.0.0.1:{port}/pulse")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("PULSE_PSEUDONYM_KEY", PSEUDONYM_KEY)

    for command in (("rollout", "list"), ("db", "upgrade"), ("jobs", "run", "pulse")):
        line = failure(pulse(*command))
        assert line.startswith(f"cannot connect to the database at 127.0.0.1:{port} (database pulse): "), command
        assert "Connection refused" in line
        assert "db upgrade" not in line and "secret-password" not in line


def test_a_database_host_that_does_not_resolve_is_named(pulse: Pulse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://pulse@db.invalid/pulse")

    line = failure(pulse("rollout", "list"))

    assert line.startswith("cannot connect to the database at db.invalid (database pulse): ")
    assert "db.invalid" in line.split(": ", 1)[1]  # the driver says it could not resolve it


def test_a_sqlite_file_in_a_missing_folder_cannot_be_opened(pulse: Pulse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "gone" / "pulse.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")

    assert failure(pulse("rollout", "list")) == f"cannot open the SQLite database {path}: unable to open database file"


def test_an_empty_database_is_sent_to_db_upgrade(
    pulse: Pulse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, empty_postgresql: str
) -> None:
    for url in (f"sqlite:///{tmp_path / 'new.sqlite3'}", empty_postgresql):
        monkeypatch.setenv("DATABASE_URL", url)

        line = failure(pulse("rollout", "list"))

        assert line.startswith("database error: ")
        assert line.endswith("(the database has no tables yet: run `pulse db upgrade`)")


# ---------------------------------------------------------------- the demo's folder


def test_a_demo_folder_that_cannot_be_created_is_one_line(pulse: Pulse) -> None:
    assert failure(pulse("demo", "--folder", "/proc/pulse-demo")) == (
        "cannot create the demo folder /proc/pulse-demo: No such file or directory"
    )


def test_a_demo_folder_that_is_a_file_is_one_line(pulse: Pulse, tmp_path: Path) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("not a folder", encoding="utf-8")

    assert failure(pulse("demo", "--folder", str(taken))) == (
        f"cannot use {taken} as the demo folder: it is a file; give a folder with --folder"
    )
    assert failure(pulse("demo", "--folder", str(taken / "demo"))) == (
        f"cannot create the demo folder {taken / 'demo'}: a file is in the way"
    )
    assert taken.read_text(encoding="utf-8") == "not a folder"


# ---------------------------------------------------------------- Slack out of reach for the roster


@pytest.fixture
def roster_file(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text("user_id,team,manages,level,council\nUANA,Sales,,entry,no\n", encoding="utf-8")
    return path


@pytest.fixture
def roster_env(monkeypatch: pytest.MonkeyPatch, database_url: str, db: Database, slack: FakeSlack) -> pytest.MonkeyPatch:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    slack.add_user("UANA")
    return monkeypatch


def roster_failures(pulse: Pulse, roster_file: Path) -> list[str]:
    return [failure(pulse("roster", "import", str(roster_file))), failure(pulse("roster", "sync"))]


def test_slack_refusing_connections_is_said_for_import_and_sync(
    pulse: Pulse, roster_env: pytest.MonkeyPatch, roster_file: Path
) -> None:
    port = closed_port()
    roster_env.setenv("SLACK_API_URL", f"http://127.0.0.1:{port}/api/")

    assert roster_failures(pulse, roster_file) == [
        f"cannot reach Slack for users.list: connection refused by 127.0.0.1:{port}"
    ] * 2


def test_a_slack_host_that_does_not_resolve_is_said(pulse: Pulse, roster_env: pytest.MonkeyPatch, roster_file: Path) -> None:
    roster_env.setenv("SLACK_API_URL", "https://slack.invalid/api/")

    assert roster_failures(pulse, roster_file) == ["cannot reach Slack for users.list: DNS lookup failed for slack.invalid"] * 2


def test_slack_not_answering_in_time_is_said(
    pulse: Pulse, roster_env: pytest.MonkeyPatch, roster_file: Path, slack: FakeSlack
) -> None:
    roster_env.setattr(bot.slack.client, "TIMEOUT", 1)
    slack.slow("users.list", 3.0, times=2)
    host = slack.url.split("/")[2]

    assert roster_failures(pulse, roster_file) == [
        f"cannot reach Slack for users.list: no answer from {host} within 1 s (timed out)"
    ] * 2


def test_a_token_slack_does_not_know_is_said_with_the_fix(
    pulse: Pulse, roster_env: pytest.MonkeyPatch, roster_file: Path
) -> None:
    roster_env.setenv("SLACK_BOT_TOKEN", "xoxb-revoked-long-ago")

    assert roster_failures(pulse, roster_file) == [
        "Slack refused users.list: invalid_auth: SLACK_BOT_TOKEN is not a token Slack knows; "
        "copy the Bot User OAuth Token again (Install App)"
    ] * 2


# ---------------------------------------------------------------- settings a command needs


@pytest.mark.parametrize(
    ("command", "named"),
    [
        (("serve",), "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and PULSE_PSEUDONYM_KEY are not set; they are required for pulse serve"),
        (("socket",), "SLACK_BOT_TOKEN, SLACK_APP_TOKEN and PULSE_PSEUDONYM_KEY are not set; they are required for pulse socket (Socket Mode)"),
        (("clock",), "SLACK_BOT_TOKEN and PULSE_PSEUDONYM_KEY are not set; they are required for pulse clock"),
        (("jobs", "run", "pulse"), "SLACK_BOT_TOKEN and PULSE_PSEUDONYM_KEY are not set; they are required for pulse jobs run pulse"),
        (("jobs", "run", "digest"), "SLACK_BOT_TOKEN, PULSE_PSEUDONYM_KEY and PULSE_COUNCIL_CHANNEL are not set; they are required for pulse jobs run digest"),
        (("roster", "sync"), "SLACK_BOT_TOKEN is not set; it is required to look people up in Slack"),
        (("digest", "show"), "PULSE_PSEUDONYM_KEY is not set; it is required to read the released figures"),
    ],
)
def test_every_missing_setting_a_command_needs_is_named_at_once(pulse: Pulse, command: tuple[str, ...], named: str) -> None:
    assert failure(pulse(*command)) == named


def test_a_setting_that_is_there_is_not_named(pulse: Pulse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_PSEUDONYM_KEY", PSEUDONYM_KEY)

    assert failure(pulse("jobs", "run", "questions")) == (
        "SLACK_BOT_TOKEN and PULSE_COUNCIL_CHANNEL are not set; they are required for pulse jobs run questions"
    )
