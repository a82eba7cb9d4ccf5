"""The council digest as plain values: what the Slack message and the terminal both render.

Everything in here is a released figure or derived from released figures; renderers only format.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final

from bot.i18n import N_, SOURCE

YES_LABELS: Final = frozenset({"yes", "ja", "oui", "sí", "si", "はい"})

DECISIONS = ("continue", "pause", "review")
# In English; shown in the reader's language (`bot.reports.text.decision_label`).
DECISION_LABELS = {"continue": N_("Continue"), "pause": N_("Pause"), "review": N_("Review next week")}


@dataclass(frozen=True)
class OptionShare:
    label: str
    share: float


@dataclass(frozen=True)
class QuestionLine:
    """One question's latest released figure for a group within the window, or why there is none."""

    key: str
    text: str
    kind: str
    week: str | None  # the week the figure comes from; None when no week of the window has one
    current: bool  # the figure is the reported week's own
    people: int | None = None  # answerers behind the figure
    mean: float | None = None  # scale: mean score; hours: mean hours
    favourable: float | None = None  # scale: share at or above its favourable mark
    options: tuple[OptionShare, ...] = ()  # choice: each option's share, in the question's order
    rate: tuple[str, float] | None = None  # (name, share) of the question's rate mark, e.g. often/always
    asked: bool = False  # asked in some week of the window (a None figure then had too few answers)

    @property
    def yes_share(self) -> float | None:
        """A yes/no question's share answering yes."""
        if self.kind != "choice" or len(self.options) != 2 or self.options[1].label.strip().lower() not in YES_LABELS:
            return None
        return self.options[1].share


@dataclass(frozen=True)
class ScoreLine:
    key: str
    label: str
    mean: float
    favourable: float | None  # share at or above the question's favourable mark
    change: float | None  # against last week, when both weeks could be shown
    series: tuple[float | None, ...]  # the last 8 weeks, oldest first, None where suppressed


@dataclass(frozen=True)
class GroupLine:
    """One team (subtree) or "Other teams": only groups the engine allowed."""

    label: str
    responded: int
    response_rate: float | None
    capability: float | None
    hidden_hours: float | None


@dataclass(frozen=True)
class Decision:
    decision: str
    decided_by: str  # Slack user id of the council member: decisions are not anonymous
    decided_at: dt.datetime


@dataclass(frozen=True)
class RolloutLine:
    rollout_id: int
    name: str
    go_live: dt.date
    weeks_since_go_live: int
    in_window: bool
    time_to_competency: int | None
    pause_signal: bool
    reasons: tuple[str, ...]
    last_decision: Decision | None
    left_out: tuple[str, ...] = ()  # named teams with no released figure this week
    window_days: int = 90  # the early-life window after go-live (rollouts.window_days)
    # Each covered team's own weeks to competency (None: not reached), where its capability was released.
    team_competency: tuple[tuple[str, int | None], ...] = ()


@dataclass(frozen=True)
class LevelLine:
    level: str
    mean: float
    favourable: float | None  # share at or above the question's favourable mark


@dataclass(frozen=True)
class OpenQuestion:
    """A question an explainer raised this week, as the council was shown it in the channel; one
    not posted yet (an anonymous one waiting for enough recipients) carries nothing but that."""

    explainer: str
    text: str
    link: str | None  # the question's message in the council channel; None: not posted yet


@dataclass(frozen=True)
class ExplainerLine:
    title: str
    reached: int
    helpful_share: float | None


@dataclass(frozen=True)
class Digest:
    week: str
    min_group_size: int
    sent: int | None  # None: participation was withheld (too few people asked)
    responded: int | None
    response_rate: float | None
    rate_change: float | None
    scores: tuple[ScoreLine, ...] = ()
    saved_hours: float | None = None
    upkeep_hours: float | None = None
    net_hours: float | None = None
    rework_rate: float | None = None
    workaround_rate: float | None = None
    hidden_hours: tuple[tuple[str, float], ...] = ()  # (category label, hours) organisation-wide
    groups: tuple[GroupLine, ...] = ()
    clarity_by_level: tuple[LevelLine, ...] = ()
    alerts: tuple[str, ...] = ()
    rollouts: tuple[RolloutLine, ...] = ()
    explainers: tuple[ExplainerLine, ...] = ()
    open_questions: tuple[OpenQuestion, ...] = ()
    questions: tuple[QuestionLine, ...] = ()  # every closed question of the bank, by its kind
    suppressed: bool = False  # too few respondents for any figure beyond participation
    open_week: bool = False  # the week is still open: only its progress so far is shown
    notes: tuple[str, ...] = field(default_factory=tuple)
    # The language its words are in (the council's): labels, alerts and questions were built in it.
    lang: str = SOURCE
