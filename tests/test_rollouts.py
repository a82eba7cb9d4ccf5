"""Rollouts: adding and listing them (service and CLI), weeks since go-live, the early-life window,
time-to-competency and the pause signal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.cli import main
from bot.db import Database
from bot.errors import RolloutError
from bot.models import Rollout, RolloutTeam
from bot.reports.alerts import Alert, AlertKind, WeekSignals, evaluate
from bot.rollouts.service import (
    PauseSignal,
    add_rollout,
    covered_team_ids,
    in_window,
    list_rollouts,
    pause_signal,
    time_to_competency,
    weeks_since_go_live,
)
from bot.settings import AlertThresholds, RolloutRules
from bot.weeks import UTC, IsoWeek
from tests import factories

Pulse = Callable[..., tuple[int, str, str]]

GO_LIVE = dt.date(2026, 11, 23)  # Monday of 2026-W48
AT = dt.datetime(2026, 12, 9, 12, 0, tzinfo=UTC)  # Wednesday of 2026-W50: week 2 since go-live
RULES = RolloutRules()


@pytest.fixture
def roster(db: Database) -> Database:
    for path in ("Sales", "Sales/EMEA", "Sales/EMEA/Berlin", "Support", "Finance"):
        factories.team(db, path)
    return db


@pytest.fixture
def pulse(
    capsys: pytest.CaptureFixture[str], roster: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Pulse:
    """Run `pulse` in-process against the test database; return (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", database_url)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        out, err = capsys.readouterr()
        return exit_info.value.code, out, err

    return run


def rollout_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Rollout)) or 0


def alert(kind: AlertKind, group: str = "Sales", message: str = "Capability 2.8 (below 3.0)") -> Alert:
    return Alert(kind=kind, group=group, week="2026-W51", message=message)


# ---------------------------------------------------------------- weeks since go-live


def test_go_live_week_is_week_zero() -> None:
    assert weeks_since_go_live(GO_LIVE, IsoWeek(2026, 48)) == 0
    assert weeks_since_go_live(dt.date(2026, 11, 29), IsoWeek(2026, 48)) == 0  # a Sunday go-live too


def test_weeks_count_up_after_go_live_and_down_before_it() -> None:
    assert weeks_since_go_live(GO_LIVE, IsoWeek(2026, 50)) == 2
    assert weeks_since_go_live(GO_LIVE, IsoWeek(2026, 46)) == -2


def test_weeks_since_go_live_run_on_across_the_iso_year_boundary() -> None:
    go_live = dt.date(2026, 12, 28)  # Monday of 2026-W53: 2026 has 53 ISO weeks

    assert weeks_since_go_live(go_live, IsoWeek(2026, 53)) == 0
    assert weeks_since_go_live(go_live, IsoWeek(2027, 1)) == 1
    assert weeks_since_go_live(go_live, IsoWeek(2027, 10)) == 10
    assert weeks_since_go_live(dt.date(2027, 1, 4), IsoWeek(2026, 53)) == -1


def test_new_years_day_go_live_belongs_to_the_last_iso_week_of_the_old_year() -> None:
    go_live = dt.date(2027, 1, 1)  # a Friday, in 2026-W53

    assert weeks_since_go_live(go_live, IsoWeek(2026, 53)) == 0
    assert weeks_since_go_live(go_live, IsoWeek(2027, 1)) == 1


def test_the_window_is_ninety_days_from_the_go_live_day() -> None:
    assert not in_window(GO_LIVE, GO_LIVE - dt.timedelta(days=1), 90)
    assert in_window(GO_LIVE, GO_LIVE, 90)
    assert in_window(GO_LIVE, GO_LIVE + dt.timedelta(days=89), 90)
    assert not in_window(GO_LIVE, GO_LIVE + dt.timedelta(days=90), 90)


# ---------------------------------------------------------------- adding and listing (service)


def test_added_rollout_is_listed_with_its_teams_and_weeks(roster: Database) -> None:
    add_rollout(roster, "Copilot for Sales", GO_LIVE, ["Sales", "Support"], at=AT)

    (info,) = list_rollouts(roster, at=AT)

    assert info.name == "Copilot for Sales"
    assert info.go_live == GO_LIVE
    assert info.teams == ("Sales", "Support")
    assert info.weeks_since_go_live == 2
    assert info.in_window
    assert info.window_ends == dt.date(2027, 2, 20)


def test_add_returns_the_rollout_as_listed(roster: Database) -> None:
    added = add_rollout(roster, "Copilot for Sales", GO_LIVE, ["Sales"], at=AT)

    assert list_rollouts(roster, at=AT) == [added]


def test_rollouts_are_listed_by_go_live(roster: Database) -> None:
    add_rollout(roster, "Forecast assistant", dt.date(2027, 1, 11), ["Finance"], at=AT)
    add_rollout(roster, "Copilot for Sales", GO_LIVE, ["Sales"], at=AT)

    assert [info.name for info in list_rollouts(roster, at=AT)] == ["Copilot for Sales", "Forecast assistant"]


def test_a_rollout_is_read_as_of_the_day_asked(roster: Database) -> None:
    add_rollout(roster, "Copilot for Sales", GO_LIVE, ["Sales"], at=AT)

    before = list_rollouts(roster, at=dt.datetime(2026, 11, 20, tzinfo=UTC))[0]
    later = list_rollouts(roster, at=dt.datetime(2027, 3, 1, tzinfo=UTC))[0]

    assert (before.weeks_since_go_live, before.in_window) == (-1, False)
    assert (later.weeks_since_go_live, later.in_window) == (14, False)


def test_the_window_length_comes_from_the_rules(roster: Database) -> None:
    add_rollout(roster, "Copilot for Sales", GO_LIVE, ["Sales"], at=AT)

    (info,) = list_rollouts(roster, at=AT, window_days=14)

    assert not info.in_window
    assert info.window_ends == dt.date(2026, 12, 6)


def test_team_paths_are_read_as_the_roster_writes_them(roster: Database) -> None:
    info = add_rollout(roster, "  Copilot  ", GO_LIVE, [" Sales / EMEA ", "Sales/EMEA", "", "Support"], at=AT)

    assert info.name == "Copilot"
    assert info.teams == ("Sales/EMEA", "Support")


def test_a_rollout_covers_the_sub_teams_of_its_teams(roster: Database) -> None:
    info = add_rollout(roster, "Copilot for EMEA", GO_LIVE, ["Sales/EMEA"], at=AT)
    ids = {path: factories.team(roster, path) for path in ("Sales", "Sales/EMEA", "Sales/EMEA/Berlin", "Support")}

    covered = covered_team_ids(roster, info)

    assert covered == {ids["Sales/EMEA"], ids["Sales/EMEA/Berlin"]}
    assert covered_team_ids(roster, info.id) == covered


def test_a_rollout_covering_a_team_and_its_sub_team_counts_each_once(roster: Database) -> None:
    info = add_rollout(roster, "Copilot", GO_LIVE, ["Sales", "Sales/EMEA"], at=AT)

    assert len(covered_team_ids(roster, info)) == 3


# ---------------------------------------------------------------- bad input (service)


@pytest.mark.parametrize(
    ("name", "teams", "message"),
    [
        ("", ["Sales"], "a rollout needs a name"),
        ("   ", ["Sales"], "a rollout needs a name"),
        ("Copilot\nfor Sales", ["Sales"], "one line"),
        ("x" * 101, ["Sales"], "at most 100 characters"),
        ("Copilot", [], "at least one team"),
        ("Copilot", [" ", ""], "at least one team"),
        ("Copilot", ["Sales//EMEA"], "'Sales//EMEA' is not a team path"),
        ("Copilot", ["Sales/EMAE"], "unknown team Sales/EMAE (did you mean Sales/EMEA?)"),
        ("Copilot", ["Sales", "Legal", "Marketing"], "unknown teams Legal, Marketing"),
    ],
)
def test_bad_rollout_is_refused_in_one_line_and_nothing_is_written(
    roster: Database, name: str, teams: list[str], message: str
) -> None:
    with pytest.raises(RolloutError) as error:
        add_rollout(roster, name, GO_LIVE, teams, at=AT)

    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert rollout_count(roster) == 0


def test_second_rollout_with_the_same_name_is_refused(roster: Database) -> None:
    add_rollout(roster, "Copilot", GO_LIVE, ["Sales"], at=AT)

    with pytest.raises(RolloutError, match=r"a rollout named 'Copilot' already exists \(go-live 2026-11-23\)"):
        add_rollout(roster, "copilot", dt.date(2027, 1, 4), ["Support"], at=AT)
    with roster.session() as session:
        assert session.scalar(select(func.count()).select_from(RolloutTeam)) == 1


def test_unknown_team_with_an_empty_roster_says_to_import_it(db: Database) -> None:
    with pytest.raises(RolloutError, match=r"the roster has no teams yet; import it first"):
        add_rollout(db, "Copilot", GO_LIVE, ["Sales"], at=AT)


# ---------------------------------------------------------------- time-to-competency


def test_time_to_competency_is_the_first_week_reaching_the_target() -> None:
    capability = {"2026-W48": 3.2, "2026-W49": 3.0, "2026-W50": 3.7, "2026-W51": 4.1, "2026-W52": 3.9}

    assert time_to_competency(capability, GO_LIVE, 4.0) == 3


def test_reaching_the_target_exactly_counts() -> None:
    assert time_to_competency({"2026-W50": 4.0}, GO_LIVE, 4.0) == 2


def test_time_to_competency_is_none_until_the_target_is_reached() -> None:
    assert time_to_competency({"2026-W48": 3.2, "2026-W49": 3.99}, GO_LIVE, 4.0) is None
    assert time_to_competency({}, GO_LIVE, 4.0) is None


def test_weeks_before_go_live_do_not_count_as_competency() -> None:
    assert time_to_competency({"2026-W46": 4.5, "2026-W49": 4.2}, GO_LIVE, 4.0) == 1


def test_suppressed_weeks_do_not_count_as_competency() -> None:
    assert time_to_competency({"2026-W48": None, "2026-W52": 4.3}, GO_LIVE, 4.0) == 4


def test_time_to_competency_accepts_weeks_in_any_order_and_across_the_year_boundary() -> None:
    capability = {IsoWeek(2027, 2): 4.4, IsoWeek(2027, 1): 4.0, IsoWeek(2026, 52): 3.1}

    assert time_to_competency(capability, dt.date(2026, 12, 21), 4.0) == 2


# ---------------------------------------------------------------- the pause signal


def test_no_pause_signal_inside_the_grace_weeks_whatever_the_alerts() -> None:
    alerts = [alert(kind) for kind in AlertKind]

    for week_index in range(RULES.grace_weeks):
        assert pause_signal(week_index, alerts, RULES) == PauseSignal(raised=False)


def test_no_pause_signal_before_go_live() -> None:
    no_grace = RolloutRules(grace_weeks=0)

    assert not pause_signal(-1, [alert(AlertKind.capability_low), alert(AlertKind.workload_low)], no_grace).raised


def test_two_alerts_after_the_grace_weeks_raise_the_signal_with_reasons() -> None:
    alerts = [
        alert(AlertKind.capability_low, "Sales", "Capability 2.8 (below 3.0)"),
        alert(AlertKind.workarounds_high, "Support", "Workarounds by 30% of respondents (at or above 25%)"),
    ]

    signal = pause_signal(RULES.grace_weeks, alerts, RULES)

    assert signal.raised
    assert signal.reasons == [
        "Sales: Capability 2.8 (below 3.0)",
        "Support: Workarounds by 30% of respondents (at or above 25%)",
    ]


def test_one_alert_after_the_grace_weeks_is_not_yet_a_pause_signal() -> None:
    assert pause_signal(5, [alert(AlertKind.capability_low)], RULES) == PauseSignal(raised=False)


def test_a_low_response_rate_is_not_a_reason_to_pause() -> None:
    alerts = [alert(AlertKind.capability_low), alert(AlertKind.response_low, message="Response rate 20% (below 40%)")]

    assert not pause_signal(5, alerts, RULES).raised


def test_the_same_alert_given_twice_counts_once() -> None:
    assert not pause_signal(5, [alert(AlertKind.capability_low), alert(AlertKind.capability_low)], RULES).raised


def test_the_number_of_alerts_that_signal_a_pause_comes_from_the_rules() -> None:
    assert pause_signal(5, [alert(AlertKind.capability_low)], RolloutRules(pause_when_alerts_at_least=1)).raised


def test_a_covered_team_struggling_after_the_dip_signals_a_pause() -> None:
    history = [
        WeekSignals(week="2026-W49", capability=3.6, workload_favourable=0.55),
        WeekSignals(week="2026-W50", capability=3.3, workload_favourable=0.5),
        WeekSignals(week="2026-W51", capability=2.9, workload_favourable=0.45),
    ]
    alerts = evaluate("Sales", history, AlertThresholds())

    signal = pause_signal(weeks_since_go_live(GO_LIVE, IsoWeek(2026, 51)), alerts, RULES)

    assert signal.raised
    assert signal.reasons[0] == "Sales: Capability 2.9 (below 3.0)"


# ---------------------------------------------------------------- the command line


def test_rollout_add_through_the_cli_confirms_in_one_line(pulse: Pulse, roster: Database) -> None:
    code, out, err = pulse("rollout", "add", "Copilot for Sales", "--go-live", "2026-11-23", "--teams", "Sales,Support")

    assert (code, err) == (0, "")
    assert out == (
        "Added rollout Copilot for Sales: go-live 2026-11-23 (ISO week 2026-W48), "
        "covering Sales, Support and their sub-teams.\n"
    )
    assert [info.teams for info in list_rollouts(roster)] == [("Sales", "Support")]


@freeze_time("2026-12-09 12:00:00")
def test_rollout_list_prints_a_table(pulse: Pulse, roster: Database) -> None:
    add_rollout(roster, "Copilot for Sales", GO_LIVE, ["Sales", "Support"])
    add_rollout(roster, "Forecast assistant", dt.date(2027, 1, 11), ["Finance"])
    add_rollout(roster, "Ticket triage", dt.date(2026, 6, 1), ["Support"])

    code, out, err = pulse("rollout", "list")

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "Rollout             Go-live     Weeks since go-live  Teams           In 90-day window",
        "Ticket triage       2026-06-01  27                   Support         no, ended 2026-08-29",
        "Copilot for Sales   2026-11-23  2                    Sales, Support  yes, until 2027-02-20",
        "Forecast assistant  2027-01-11  -5 (not live yet)    Finance         not yet, from 2027-01-11",
    ]


def test_rollout_list_with_no_rollouts_says_how_to_add_one(pulse: Pulse) -> None:
    code, out, _ = pulse("rollout", "list")

    assert code == 0
    assert out == "No rollouts yet. Add one with: pulse rollout add NAME --go-live YYYY-MM-DD --teams A,B\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Copilot", "--go-live", "2026-11-23", "--teams", "Legal"), "pulse: unknown team Legal"),
        (("Copilot", "--go-live", "2026-11-23", "--teams", ","), "pulse: a rollout needs at least one team"),
        (("", "--go-live", "2026-11-23", "--teams", "Sales"), "pulse: a rollout needs a name"),
    ],
)
def test_rollout_add_domain_errors_exit_1_with_one_line(
    pulse: Pulse, roster: Database, args: tuple[str, ...], message: str
) -> None:
    code, out, err = pulse("rollout", "add", *args)

    assert code == 1
    assert out == ""
    assert err.startswith(message)
    assert err.count("\n") == 1, err
    assert rollout_count(roster) == 0


def test_duplicate_rollout_through_the_cli_exits_1_with_one_line(pulse: Pulse) -> None:
    pulse("rollout", "add", "Copilot", "--go-live", "2026-11-23", "--teams", "Sales")

    code, _, err = pulse("rollout", "add", "Copilot", "--go-live", "2027-01-04", "--teams", "Support")

    assert code == 1
    assert err == "pulse: a rollout named 'Copilot' already exists (go-live 2026-11-23)\n"


@pytest.mark.parametrize("date", ["2026-02-30", "23.11.2026", "2026-11-23T10:00", "tomorrow"])
def test_bad_go_live_date_is_a_usage_error_showing_the_shape(pulse: Pulse, date: str) -> None:
    code, out, err = pulse("rollout", "add", "Copilot", "--go-live", date, "--teams", "Sales")

    assert code == 2
    assert out == ""
    assert f"'{date}' is not a date; write it as YYYY-MM-DD" in err
    assert "--go-live" in err


def test_missing_teams_is_a_usage_error(pulse: Pulse) -> None:
    code, _, err = pulse("rollout", "add", "Copilot", "--go-live", "2026-11-23")

    assert code == 2
    assert "--teams" in err


def test_help_lists_the_rollout_commands(pulse: Pulse) -> None:
    code, out, _ = pulse("rollout", "--help")

    assert code == 0
    assert "\n  add " in out and "\n  list " in out
