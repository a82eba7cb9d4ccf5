"""Alerts: each threshold of the behaviour file, at its boundary, in words the council can read."""

from __future__ import annotations

from typing import Any

import pytest

from bot.reports.alerts import Alert, AlertKind, WeekSignals, evaluate
from bot.settings import AlertThresholds

DEFAULTS = AlertThresholds()
REPORTED = "2026-W10"


def week(label: str = REPORTED, **figures: float | None) -> WeekSignals:
    return WeekSignals(week=label, **figures)


def weeks(field: str, *values: float | None, last: str = REPORTED) -> list[WeekSignals]:
    """Consecutive weeks ending with `last`, oldest first, with one figure set."""
    year, number = last.split("-W")
    first = int(number) - len(values) + 1
    return [week(f"{year}-W{first + i:02d}", **{field: value}) for i, value in enumerate(values)]


def kinds(alerts: list[Alert]) -> list[str]:
    return [alert.kind for alert in alerts]


def only(kind: AlertKind, history: list[WeekSignals], thresholds: AlertThresholds = DEFAULTS) -> list[Alert]:
    return [alert for alert in evaluate("Sales", history, thresholds) if alert.kind == kind]


# ---------------------------------------------------------------- one week's figures

SINGLE_WEEK = [
    # field, figure that alerts (at the boundary), figure just on the safe side, kind
    ("capability", 2.99, 3.0, AlertKind.capability_low),
    ("workload_favourable", 0.49, 0.5, AlertKind.workload_low),
    ("upkeep_hours", 3.0, 2.99, AlertKind.upkeep_high),
    ("workaround_rate", 0.25, 0.249, AlertKind.workarounds_high),
    ("response_rate", 0.39, 0.4, AlertKind.response_low),
]


@pytest.mark.parametrize(("field", "alerting", "quiet", "kind"), SINGLE_WEEK)
def test_threshold_fires_at_its_boundary(field: str, alerting: float, quiet: float, kind: AlertKind) -> None:
    assert kinds(evaluate("Sales", [week(**{field: alerting})], DEFAULTS)) == [kind]


@pytest.mark.parametrize(("field", "alerting", "quiet", "kind"), SINGLE_WEEK)
def test_threshold_stays_quiet_on_the_safe_side_of_it(
    field: str, alerting: float, quiet: float, kind: AlertKind
) -> None:
    assert evaluate("Sales", [week(**{field: quiet})], DEFAULTS) == []


def test_a_healthy_week_raises_nothing() -> None:
    healthy = week(capability=4.1, workload_favourable=0.7, upkeep_hours=1.0, workaround_rate=0.05, response_rate=0.8)

    assert evaluate("Sales", [healthy], DEFAULTS) == []


def test_a_week_can_raise_several_alerts_in_a_fixed_order() -> None:
    bad = week(capability=2.5, workload_favourable=0.3, upkeep_hours=4.0, workaround_rate=0.4, response_rate=0.2)

    assert kinds(evaluate("Sales", [bad], DEFAULTS)) == [
        AlertKind.capability_low,
        AlertKind.workload_low,
        AlertKind.upkeep_high,
        AlertKind.workarounds_high,
        AlertKind.response_low,
    ]


def test_thresholds_come_from_the_behaviour_file() -> None:
    strict = AlertThresholds(capability_below=3.5, workaround_at_least=0.1)

    alerts = evaluate("Sales", [week(capability=3.4, workaround_rate=0.1)], strict)

    assert [alert.message for alert in alerts] == [
        "Capability 3.4 (below 3.5)",
        "Workarounds by 10% of respondents (at or above 10%)",
    ]


def test_no_history_raises_nothing() -> None:
    assert evaluate("Sales", [], DEFAULTS) == []


# ---------------------------------------------------------------- suppressed figures


def test_suppressed_figures_never_alert() -> None:
    history = [
        week("2026-W07", capability=4.5, upkeep_hours=1.0),
        week("2026-W08", capability=4.5, upkeep_hours=2.0),
        week("2026-W09", capability=4.5, upkeep_hours=3.0),
        week("2026-W10"),
    ]

    assert evaluate("Sales", history, DEFAULTS) == []


def test_a_suppressed_earlier_week_is_no_baseline_for_a_drop() -> None:
    assert only(AlertKind.capability_drop, weeks("capability", None, None, 3.2)) == []


def test_a_suppressed_week_breaks_a_rising_run() -> None:
    assert only(AlertKind.upkeep_rising, weeks("upkeep_hours", 1.0, None, 2.0, 2.5)) == []


# ---------------------------------------------------------------- capability falling


def test_capability_down_half_a_point_over_two_weeks_alerts() -> None:
    alerts = only(AlertKind.capability_drop, weeks("capability", 4.0, 3.8, 3.5))

    assert [alert.message for alert in alerts] == [
        "Capability down 0.5 within 2 weeks, from 4.0 in 2026-W08 to 3.5 (alert at a drop of 0.5)"
    ]


def test_capability_down_half_a_point_in_one_week_alerts_too() -> None:
    assert kinds(only(AlertKind.capability_drop, weeks("capability", 3.9, 4.0, 3.5))) == [AlertKind.capability_drop]


def test_capability_down_less_than_half_a_point_does_not_alert() -> None:
    assert only(AlertKind.capability_drop, weeks("capability", 4.0, 3.8, 3.51)) == []


def test_a_drop_that_took_longer_than_two_weeks_does_not_alert() -> None:
    assert only(AlertKind.capability_drop, weeks("capability", 4.0, 3.8, 3.6, 3.5)) == []


def test_a_drop_of_exactly_the_threshold_alerts_despite_float_arithmetic() -> None:
    # 3.3 - 2.8 is 0.4999999999999998 in floating point.
    assert kinds(only(AlertKind.capability_drop, weeks("capability", 3.3, 3.0, 2.8))) == [AlertKind.capability_drop]


def test_weeks_are_counted_by_the_calendar_even_with_a_gap_in_the_history() -> None:
    two_weeks_back = [week("2026-W08", capability=4.0), week("2026-W10", capability=3.5)]
    three_weeks_back = [week("2026-W07", capability=4.0), week("2026-W10", capability=3.5)]

    assert kinds(only(AlertKind.capability_drop, two_weeks_back)) == [AlertKind.capability_drop]
    assert only(AlertKind.capability_drop, three_weeks_back) == []


def test_a_drop_across_the_iso_year_boundary_counts() -> None:
    history = [week("2026-W53", capability=4.2), week("2027-W01", capability=3.9), week("2027-W02", capability=3.6)]

    assert kinds(only(AlertKind.capability_drop, history)) == [AlertKind.capability_drop]


# ---------------------------------------------------------------- upkeep rising


def test_upkeep_rising_three_weeks_running_alerts() -> None:
    alerts = only(AlertKind.upkeep_rising, weeks("upkeep_hours", 1.0, 1.5, 2.0, 2.5))

    assert [alert.message for alert in alerts] == [
        "AI upkeep rising 3 weeks running (1.0 → 1.5 → 2.0 → 2.5 h per person)"
    ]


def test_upkeep_rising_only_two_weeks_does_not_alert() -> None:
    assert only(AlertKind.upkeep_rising, weeks("upkeep_hours", 2.0, 1.0, 1.5, 2.0)) == []


def test_upkeep_that_levels_off_does_not_count_as_rising() -> None:
    assert only(AlertKind.upkeep_rising, weeks("upkeep_hours", 1.0, 1.5, 1.5, 2.0)) == []


def test_too_short_a_history_cannot_be_rising() -> None:
    assert only(AlertKind.upkeep_rising, weeks("upkeep_hours", 1.5, 2.0, 2.5)) == []


def test_high_and_rising_upkeep_are_two_alerts() -> None:
    assert kinds(evaluate("Sales", weeks("upkeep_hours", 1.0, 2.0, 3.0, 4.0), DEFAULTS)) == [
        AlertKind.upkeep_high,
        AlertKind.upkeep_rising,
    ]


# ---------------------------------------------------------------- in words


@pytest.mark.parametrize(
    ("figures", "message"),
    [
        ({"capability": 2.8}, "Capability 2.8 (below 3.0)"),
        ({"workload_favourable": 0.45}, "Favourable workload 45% (below 50%)"),
        ({"upkeep_hours": 3.5}, "AI upkeep 3.5 h per person per week (at or above 3.0 h)"),
        ({"workaround_rate": 0.3}, "Workarounds by 30% of respondents (at or above 25%)"),
        ({"response_rate": 0.35}, "Response rate 35% (below 40%)"),
    ],
)
def test_message_says_the_figure_and_the_threshold_in_plain_words(figures: dict[str, Any], message: str) -> None:
    assert [alert.message for alert in evaluate("Sales", [week(**figures)], DEFAULTS)] == [message]


@pytest.mark.parametrize(
    ("figures", "message"),
    [
        ({"capability": 2.96}, "Capability 2.96 (below 3.0)"),
        ({"response_rate": 0.398}, "Response rate 39.8% (below 40%)"),
        ({"workload_favourable": 0.4996}, "Favourable workload 49.96% (below 50%)"),
    ],
)
def test_a_figure_is_never_rounded_onto_its_threshold(figures: dict[str, Any], message: str) -> None:
    assert [alert.message for alert in evaluate("Sales", [week(**figures)], DEFAULTS)] == [message]


def test_alert_names_its_group_and_the_reported_week() -> None:
    (alert,) = evaluate("Sales/EMEA", weeks("capability", 3.5, 2.8), DEFAULTS)[:1]

    assert (alert.group, alert.week) == ("Sales/EMEA", REPORTED)
    assert str(alert) == "Sales/EMEA: Capability 2.8 (below 3.0)"
