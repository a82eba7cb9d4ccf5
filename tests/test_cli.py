"""The `pulse` command as an operator types it: usage errors, help, and one-line failures."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main

Pulse = Callable[..., tuple[int, str, str]]

COMMANDS = ("db", "roster", "jobs", "serve", "socket", "clock", "demo")


@pytest.fixture
def pulse(capsys: pytest.CaptureFixture[str]) -> Pulse:
    """Run the `pulse` command in-process; return (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        out, err = capsys.readouterr()
        return exit_info.value.code, out, err

    return run


def python_m_bot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


# ---------------------------------------------------------------- usage errors


def test_unknown_command_is_a_usage_error(pulse: Pulse) -> None:
    code, out, err = pulse("frobnicate")

    assert code == 2
    assert out == ""
    assert "No such command 'frobnicate'" in err
    assert "pulse --help" in err


def test_unknown_job_is_a_usage_error_listing_the_jobs(pulse: Pulse) -> None:
    code, _, err = pulse("jobs", "run", "nosuchjob")

    assert code == 2
    assert "'nosuchjob'" in err
    assert "pulse" in err and "reminders" in err


def test_week_that_does_not_exist_is_a_usage_error_naming_it(pulse: Pulse) -> None:
    code, _, err = pulse("jobs", "run", "pulse", "--week", "2026-W99")

    assert code == 2
    assert "--week" in err
    assert "week 99" in err


def test_week_in_the_wrong_shape_is_a_usage_error_showing_the_shape(pulse: Pulse) -> None:
    code, _, err = pulse("jobs", "run", "pulse", "--week", "48")

    assert code == 2
    assert "YYYY-Www" in err


def test_missing_argument_is_a_usage_error(pulse: Pulse) -> None:
    code, _, err = pulse("jobs", "run")

    assert code == 2
    assert "Missing argument" in err


def test_usage_errors_come_before_settings_are_read(pulse: Pulse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "not-a-token")

    code, _, err = pulse("jobs", "run", "nosuchjob")

    assert code == 2
    assert "SLACK_BOT_TOKEN" not in err


# ---------------------------------------------------------------- help


def test_help_lists_the_commands(pulse: Pulse) -> None:
    code, out, err = pulse("--help")

    assert code == 0
    assert err == ""
    assert out.startswith("Usage: pulse ")
    for command in COMMANDS:
        assert f"\n  {command} " in out


def test_short_help_option_works_too(pulse: Pulse) -> None:
    assert pulse("-h")[:2] == pulse("--help")[:2]


def test_help_needs_no_settings(pulse: Pulse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "not a database url")
    monkeypatch.setenv("PULSE_CONFIG", "no-such-file.yml")

    code, out, _ = pulse("jobs", "run", "--help")

    assert code == 0
    assert "--force" in out and "--week" in out


def test_python_m_bot_is_the_same_program(pulse: Pulse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # the same help layout in both processes
    _, expected, _ = pulse("--help")

    result = python_m_bot("--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout == expected


def test_python_m_bot_stops_on_a_bad_setting_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    result = python_m_bot(
        "jobs", "run", "pulse", env={"SLACK_BOT_TOKEN": "xoxp-user-token", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("pulse: SLACK_BOT_TOKEN")

