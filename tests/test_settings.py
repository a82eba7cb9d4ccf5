"""Settings and the behaviour file: what an operator sees when they get one right, or wrong."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.errors import SettingsError
from bot.settings import Weekday, load_settings
from tests.conftest import PSEUDONYM_KEY

Pulse = Callable[..., tuple[int, str, str]]


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


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'pulse.sqlite3'}"


def assert_one_line_naming(err: str, name: str) -> None:
    assert name in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err


def behaviour_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str | dict[str, Any]) -> Path:
    path = tmp_path / "behaviour.yml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content), encoding="utf-8")
    monkeypatch.setenv("PULSE_CONFIG", str(path))
    return path


def behaviour_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str | dict[str, Any]) -> str:
    behaviour_file(monkeypatch, tmp_path, content)
    with pytest.raises(SettingsError) as error:
        load_settings()
    return str(error.value)


def choice_questions(count: int) -> list[dict[str, Any]]:
    options = [{"label": "No", "value": 0}, {"label": "Yes", "value": 1}]
    return [{"key": f"q{i}", "text": f"Question {i}?", "kind": "choice", "options": options} for i in range(count)]


# ---------------------------------------------------------------- the environment


def test_defaults_load_with_no_environment_at_all() -> None:
    settings = load_settings()

    assert settings.database_url == "sqlite:///pulse.sqlite3"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.slack_bot_token is None
    assert settings.pulse_pseudonym_key is None
    assert settings.behaviour.min_group_size == 5
    assert settings.behaviour.schedule.pulse_day is Weekday.tuesday
    assert settings.behaviour.schedule.pulse_time == dt.time(10, 0)


def test_dotenv_file_in_the_working_directory_is_read() -> None:
    Path(".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-from-dotenv\nPULSE_COUNCIL_CHANNEL=C0COUNCIL\nDATABASE_URL=sqlite:///from-dotenv.db\n",
        encoding="utf-8",
    )

    settings = load_settings()

    assert settings.slack_bot_token == "xoxb-from-dotenv"
    assert settings.pulse_council_channel == "C0COUNCIL"
    assert settings.database_url == "sqlite:///from-dotenv.db"


def test_environment_wins_over_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text("PULSE_COUNCIL_CHANNEL=C0FROMFILE\n", encoding="utf-8")
    monkeypatch.setenv("PULSE_COUNCIL_CHANNEL", "C0FROMENV")

    assert load_settings().pulse_council_channel == "C0FROMENV"


def test_api_url_without_trailing_slash_still_reaches_methods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://localhost:8080/api")

    assert load_settings().slack_api_url == "http://localhost:8080/api/"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-a-user-token"),
        ("SLACK_APP_TOKEN", "xoxb-not-an-app-token"),
        ("PULSE_PSEUDONYM_KEY", "too-short"),
        ("DATABASE_URL", "not a database url"),
        ("SLACK_API_URL", "slack.com/api/"),
    ],
)
def test_malformed_setting_stops_with_one_line_naming_it(
    pulse: Pulse, monkeypatch: pytest.MonkeyPatch, sqlite_url: str, name: str, value: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv(name, value)

    code, out, err = pulse("db", "upgrade")

    assert code == 1
    assert out == ""
    assert_one_line_naming(err, name)


def test_malformed_setting_in_dotenv_is_named_too(pulse: Pulse) -> None:
    Path(".env").write_text("SLACK_BOT_TOKEN=xapp-wrong-kind\n", encoding="utf-8")

    code, _, err = pulse("db", "upgrade")

    assert code == 1
    assert_one_line_naming(err, "SLACK_BOT_TOKEN")
    assert "xoxb-" in err


@pytest.mark.parametrize(
    ("missing", "present", "value"),
    [
        ("PULSE_PSEUDONYM_KEY", "SLACK_BOT_TOKEN", "xoxb-test-token"),
        ("SLACK_BOT_TOKEN", "PULSE_PSEUDONYM_KEY", PSEUDONYM_KEY),
    ],
)
def test_pulse_job_without_a_required_secret_names_it(
    pulse: Pulse,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_url: str,
    missing: str,
    present: str,
    value: str,
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv(present, value)

    code, out, err = pulse("jobs", "run", "pulse")

    assert code == 1
    assert out == ""
    assert_one_line_naming(err, missing)


def test_pulse_job_with_neither_secret_stops_with_one_line(pulse: Pulse) -> None:
    code, _, err = pulse("jobs", "run", "pulse")

    assert code == 1
    assert_one_line_naming(err, "PULSE_PSEUDONYM_KEY")


def test_blank_secret_counts_as_not_set(pulse: Pulse, monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("PULSE_PSEUDONYM_KEY", "   ")

    code, _, err = pulse("jobs", "run", "pulse")

    assert code == 1
    assert_one_line_naming(err, "PULSE_PSEUDONYM_KEY")
    assert "not set" in err


# ---------------------------------------------------------------- the behaviour file


def test_unknown_key_is_named_with_its_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    message = behaviour_error(monkeypatch, tmp_path, "schedule:\n  pulse_dya: monday\n")

    assert "schedule.pulse_dya" in message
    assert "unknown key" in message


def test_unknown_top_level_key_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    message = behaviour_error(monkeypatch, tmp_path, "min_group_sise: 7\n")

    assert "min_group_sise: unknown key" in message


def test_impossible_time_names_pulse_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    message = behaviour_error(monkeypatch, tmp_path, 'schedule:\n  pulse_time: "25:00"\n')

    assert "schedule.pulse_time" in message
    assert "25:00" in message


def test_pulse_day_off_the_workdays_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    message = behaviour_error(monkeypatch, tmp_path, "schedule:\n  pulse_day: saturday\n")

    assert "schedule" in message
    assert "pulse_day saturday is not one of the workdays" in message


def test_groups_smaller_than_three_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    message = behaviour_error(monkeypatch, tmp_path, "min_group_size: 2\n")

    assert "min_group_size" in message
    assert "3" in message


def test_question_bank_asking_eight_questions_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    content = {"questions": {"core": choice_questions(8), "rotating_per_week": 0}}

    message = behaviour_error(monkeypatch, tmp_path, content)

    assert "questions" in message
    assert "asks 8 questions" in message


def test_invalid_yaml_gives_the_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    message = behaviour_error(monkeypatch, tmp_path, "schedule:\n  pulse_day: monday\n   latest_time: '17:00'\n")

    assert "not valid YAML at line 3" in message


def test_file_that_is_not_a_mapping_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    message = behaviour_error(monkeypatch, tmp_path, "- schedule\n- questions\n")

    assert "expected a mapping" in message


def test_omitted_sections_keep_their_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    behaviour_file(monkeypatch, tmp_path, "min_group_size: 7\nschedule:\n  pulse_day: wednesday\n")

    behaviour = load_settings().behaviour

    assert behaviour.min_group_size == 7
    assert behaviour.schedule.pulse_day is Weekday.wednesday
    assert behaviour.schedule.pulse_time == dt.time(10, 0)
    assert behaviour.schedule.reminder_after_hours == 48
    assert behaviour.retention_days == 730
    assert [q.key for q in behaviour.questions.core][:2] == ["capability", "workload"]


def test_empty_file_means_all_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    behaviour_file(monkeypatch, tmp_path, "")

    assert load_settings().behaviour == load_settings(pulse_config=None).behaviour


def test_own_question_bank_replaces_the_built_in_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    behaviour_file(monkeypatch, tmp_path, {"questions": {"core": choice_questions(3)}})

    questions = load_settings().behaviour.questions

    assert [q.key for q in questions.core] == ["q0", "q1", "q2"]
    assert questions.rotating == ()
    assert questions.rotating_per_week == 0


def test_unquoted_times_are_read_as_times_of_day(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # YAML 1.1 reads an unquoted 10:30 as the sexagesimal number 630.
    behaviour_file(monkeypatch, tmp_path, "schedule:\n  pulse_time: 10:30\n  latest_time: 17:45\n")

    schedule = load_settings().behaviour.schedule

    assert schedule.pulse_time == dt.time(10, 30)
    assert schedule.latest_time == dt.time(17, 45)


def test_missing_behaviour_file_stops_with_one_line(pulse: Pulse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_CONFIG", "no-such-behaviour.yml")

    code, out, err = pulse("db", "upgrade")

    assert code == 1
    assert out == ""
    assert_one_line_naming(err, "PULSE_CONFIG")
    assert "no-such-behaviour.yml" in err


def test_bad_behaviour_file_stops_the_command_with_one_line(
    pulse: Pulse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    behaviour_file(monkeypatch, tmp_path, "schedule:\n  pulse_dya: monday\n")

    code, out, err = pulse("db", "upgrade")

    assert code == 1
    assert out == ""
    assert_one_line_naming(err, "schedule.pulse_dya")
    assert not Path("pulse.sqlite3").exists()


# ---------------------------------------------------------------- alert thresholds and rollout rules


def test_alert_thresholds_and_rollout_rules_have_the_documented_defaults() -> None:
    behaviour = load_settings().behaviour

    assert behaviour.alerts.capability_below == 3.0
    assert (behaviour.alerts.capability_drop, behaviour.alerts.capability_drop_weeks) == (0.5, 2)
    assert behaviour.alerts.workload_favourable_below == 0.5
    assert (behaviour.alerts.upkeep_hours_at_least, behaviour.alerts.upkeep_rising_weeks) == (3.0, 3)
    assert behaviour.alerts.workaround_at_least == 0.25
    assert behaviour.alerts.response_rate_below == 0.4
    assert behaviour.rollouts.capability_target == 4.0
    assert behaviour.rollouts.grace_weeks == 3
    assert behaviour.rollouts.window_days == 90
    assert behaviour.rollouts.pause_when_alerts_at_least == 2


def test_one_threshold_changed_keeps_the_others(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    behaviour_file(monkeypatch, tmp_path, "alerts:\n  workaround_at_least: 0.1\nrollouts:\n  grace_weeks: 4\n")

    behaviour = load_settings().behaviour

    assert behaviour.alerts.workaround_at_least == 0.1
    assert behaviour.alerts.capability_below == 3.0
    assert behaviour.rollouts.grace_weeks == 4
    assert behaviour.rollouts.capability_target == 4.0


def test_unknown_alert_threshold_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    message = behaviour_error(monkeypatch, tmp_path, "alerts:\n  capability_under: 3\n")

    assert "alerts.capability_under: unknown key" in message


@pytest.mark.parametrize(
    "key", ["workload_favourable_below", "workaround_at_least", "response_rate_below"]
)
def test_a_share_written_as_a_percentage_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: str) -> None:
    message = behaviour_error(monkeypatch, tmp_path, f"alerts:\n  {key}: 25\n")

    assert f"alerts.{key}" in message
    assert "less than or equal to 1" in message


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("alerts:\n  capability_below: 6\n", "alerts.capability_below 6 is off the capability scale (1 to 5)"),
        ("rollouts:\n  capability_target: 0.5\n", "rollouts.capability_target 0.5 is off the capability scale"),
        ("alerts:\n  capability_drop: 5\n", "alerts.capability_drop 5 is more than the whole capability scale"),
        ("rollouts:\n  capability_target: 2.5\n", "rollouts.capability_target 2.5 is below alerts.capability_below 3"),
    ],
)
def test_capability_figures_must_sit_on_the_capability_scale(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str, named: str
) -> None:
    assert named in behaviour_error(monkeypatch, tmp_path, content)


def test_grace_weeks_longer_than_the_window_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    message = behaviour_error(monkeypatch, tmp_path, "rollouts:\n  grace_weeks: 14\n")

    assert "rollouts" in message
    assert "grace_weeks 14 reaches past window_days 90" in message


def test_a_pause_needs_at_least_one_alert(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    message = behaviour_error(monkeypatch, tmp_path, "rollouts:\n  pause_when_alerts_at_least: 0\n")

    assert "rollouts.pause_when_alerts_at_least" in message
