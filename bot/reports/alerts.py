"""Alerts: which of a group's weekly figures cross the behaviour file's thresholds.

Pure functions over plain values, so the digest, the manager summary and the rollout pause signal
all apply one rule. A figure that is None (suppressed for confidentiality, or not asked that week)
never raises an alert, and never serves as the comparison for a drop or a rise either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from typing import Final, TypeVar

from bot.i18n import ENGLISH, SOURCE, N_, Translator
from bot.settings import AlertThresholds
from bot.weeks import IsoWeek

# Figures are means and shares of answers: float noise (3.3 - 2.8 = 0.4999…) must not move a boundary.
EPSILON = 1e-9
T = TypeVar("T")
MAX_DIGITS = 3


class AlertKind(StrEnum):
    capability_low = "capability_low"
    capability_drop = "capability_drop"
    workload_low = "workload_low"
    upkeep_high = "upkeep_high"
    upkeep_rising = "upkeep_rising"
    workarounds_high = "workarounds_high"
    response_low = "response_low"


@dataclass(frozen=True)
class WeekSignals:
    """One group's figures for one ISO week; None where suppressed or unknown."""

    week: str
    capability: float | None = None  # mean on the capability scale (1–5)
    workload_favourable: float | None = None  # share 0..1
    upkeep_hours: float | None = None  # per person per week
    workaround_rate: float | None = None  # share 0..1
    response_rate: float | None = None  # share 0..1


@dataclass(frozen=True)
class Alert:
    kind: str
    group: str
    week: str
    message: str  # plain words with the figure, e.g. "Capability 2.8 (below 3.0)", in the reader's language

    def __str__(self) -> str:
        return f"{self.group}: {self.message}"


@dataclass(frozen=True)
class _History:
    """The reported week and a way to look back by calendar week, whatever gaps the history has."""

    current: WeekSignals
    by_week: dict[IsoWeek, WeekSignals]

    @classmethod
    def of(cls, history: Sequence[WeekSignals]) -> _History:
        return cls(history[-1], {IsoWeek.parse(signals.week): signals for signals in history})

    def weeks_back(self, weeks: int) -> WeekSignals | None:
        return self.by_week.get(IsoWeek.parse(self.current.week).shifted(-weeks))


def evaluate(
    group: str, history: Sequence[WeekSignals], thresholds: AlertThresholds, t: Translator = ENGLISH
) -> list[Alert]:
    """The alerts of the reported week (the last of `history`, which runs oldest to newest),
    worded in `t`'s language.

    Only the last `thresholds.lookback_weeks` + 1 entries matter; `looked_at` gives them.
    """
    if not history:
        return []
    past = _History.of(history)
    alerts = []
    for kind, check in _CHECKS:
        message = check(past, thresholds, _Words(t))
        if message is not None:
            alerts.append(Alert(kind=kind, group=group, week=past.current.week, message=message))
    return alerts


def looked_at(history: Sequence[T], thresholds: AlertThresholds) -> Sequence[T]:
    """The entries of a history (oldest to newest, a week each) that the checks can look at: a
    reader computes signals for these only, so its cost does not grow with the history."""
    return history[-(thresholds.lookback_weeks + 1):]


# A pause signal's reasons are the alerts' kinds in words ("capability low"), translated where shown.
REASONS: Final = {
    AlertKind.capability_low: N_("capability low"),
    AlertKind.capability_drop: N_("capability drop"),
    AlertKind.workload_low: N_("workload low"),
    AlertKind.upkeep_high: N_("upkeep high"),
    AlertKind.upkeep_rising: N_("upkeep rising"),
    AlertKind.workarounds_high: N_("workarounds high"),
    AlertKind.response_low: N_("response low"),
}


@dataclass(frozen=True)
class _Words:
    """An alert's message and figures in one language (English: Python's formatting, as always)."""

    t: Translator

    def say(self, message: str, **figures: str) -> str:
        return self.t.gettext(message, **figures)

    def score(self, value: float, beside: float | None = None) -> str:
        return self._decimal(value, _decimals(value, 1, beside))

    def limit(self, threshold: float) -> str:
        return self._decimal(threshold, _exact_decimals(threshold, 1))

    def percent(self, share: float, beside: float | None = None) -> str:
        places = _decimals(share * 100, 0, None if beside is None else beside * 100)
        return f"{share * 100:.{places}f}%" if self.t.lang == SOURCE else self.t.percent(share, places)

    def percent_limit(self, threshold: float) -> str:
        places = _exact_decimals(threshold * 100, 0)
        return f"{threshold * 100:.{places}f}%" if self.t.lang == SOURCE else self.t.percent(threshold, places)

    def _decimal(self, value: float, places: int) -> str:
        return f"{value:.{places}f}" if self.t.lang == SOURCE else self.t.decimal(value, places)


# ---------------------------------------------------------------- the checks


def _below(value: float, threshold: float) -> bool:
    return value < threshold - EPSILON


def _at_least(value: float, threshold: float) -> bool:
    return value > threshold - EPSILON


def _capability_low(past: _History, t: AlertThresholds, w: _Words) -> str | None:
    value = past.current.capability
    if value is None or not _below(value, t.capability_below):
        return None
    return w.say(N_("Capability {value} (below {limit})"), value=w.score(value, t.capability_below), limit=w.limit(t.capability_below))


def _capability_drop(past: _History, t: AlertThresholds, w: _Words) -> str | None:
    value = past.current.capability
    earlier = [
        (signals.capability, signals.week)
        for weeks in range(1, t.capability_drop_weeks + 1)
        if (signals := past.weeks_back(weeks)) is not None and signals.capability is not None
    ]
    if value is None or not earlier:
        return None
    highest, week = max(earlier)
    drop = highest - value
    if not _at_least(drop, t.capability_drop):
        return None
    return w.say(
        N_("Capability down {drop} within {span}, from {highest} in {week} to {value} (alert at a drop of {limit})"),
        drop=w.score(drop, t.capability_drop),
        span=w.t.ngettext("a week", "{n} weeks", t.capability_drop_weeks),
        highest=w.score(highest),
        week=week,
        value=w.score(value, t.capability_below),
        limit=w.limit(t.capability_drop),
    )


def _workload_low(past: _History, t: AlertThresholds, w: _Words) -> str | None:
    value = past.current.workload_favourable
    if value is None or not _below(value, t.workload_favourable_below):
        return None
    return w.say(
        N_("Favourable workload {value} (below {limit})"),
        value=w.percent(value, t.workload_favourable_below),
        limit=w.percent_limit(t.workload_favourable_below),
    )


def _upkeep_high(past: _History, t: AlertThresholds, w: _Words) -> str | None:
    value = past.current.upkeep_hours
    if value is None or not _at_least(value, t.upkeep_hours_at_least):
        return None
    return w.say(
        N_("AI upkeep {value} h per person per week (at or above {limit} h)"),
        value=w.score(value, t.upkeep_hours_at_least),
        limit=w.limit(t.upkeep_hours_at_least),
    )


def _upkeep_rising(past: _History, t: AlertThresholds, w: _Words) -> str | None:
    # Rising N weeks running: N week-on-week rises, so N + 1 known weeks, each above the one before.
    weeks = [past.weeks_back(back) for back in range(t.upkeep_rising_weeks, -1, -1)]
    values = [signals.upkeep_hours if signals is not None else None for signals in weeks]
    known = [value for value in values if value is not None]
    if len(known) != len(values):
        return None
    if not all(later > earlier + EPSILON for earlier, later in pairwise(known)):
        return None
    series = " → ".join(w.score(value) for value in known)
    return w.say(
        N_("AI upkeep rising {weeks} weeks running ({series} h per person)"), weeks=w.t.integer(t.upkeep_rising_weeks), series=series
    )


def _workarounds_high(past: _History, t: AlertThresholds, w: _Words) -> str | None:
    value = past.current.workaround_rate
    if value is None or not _at_least(value, t.workaround_at_least):
        return None
    return w.say(
        N_("Workarounds by {value} of respondents (at or above {limit})"),
        value=w.percent(value, t.workaround_at_least),
        limit=w.percent_limit(t.workaround_at_least),
    )


def _response_low(past: _History, t: AlertThresholds, w: _Words) -> str | None:
    value = past.current.response_rate
    if value is None or not _below(value, t.response_rate_below):
        return None
    return w.say(
        N_("Response rate {value} (below {limit})"), value=w.percent(value, t.response_rate_below), limit=w.percent_limit(t.response_rate_below)
    )


_CHECKS: tuple[tuple[AlertKind, Callable[[_History, AlertThresholds, _Words], str | None]], ...] = (
    (AlertKind.capability_low, _capability_low),
    (AlertKind.capability_drop, _capability_drop),
    (AlertKind.workload_low, _workload_low),
    (AlertKind.upkeep_high, _upkeep_high),
    (AlertKind.upkeep_rising, _upkeep_rising),
    (AlertKind.workarounds_high, _workarounds_high),
    (AlertKind.response_low, _response_low),
)


# ---------------------------------------------------------------- figures in words


def _decimals(value: float, least: int, beside: float | None = None) -> int:
    """Decimals for a figure: `least`, more only so it is never rounded onto the threshold it is
    compared with (2.96 must not read "3.0 (below 3.0)")."""
    digits = least
    while (
        beside is not None
        and digits < MAX_DIGITS
        and abs(value - beside) > EPSILON
        and f"{value:.{digits}f}" == f"{beside:.{digits}f}"
    ):
        digits += 1
    return digits


def _exact_decimals(value: float, least: int) -> int:
    """Decimals that show a threshold as written in the behaviour file (3.0, 3.25)."""
    digits = least
    while digits < MAX_DIGITS and abs(round(value, digits) - value) > EPSILON:
        digits += 1
    return digits
