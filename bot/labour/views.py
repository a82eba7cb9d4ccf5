"""What the hidden-work service returns: plain results the Slack builders and the demo render."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.labour.categories import category_name


@dataclass(frozen=True)
class Logged:
    """One stored report, anonymous (opened) or shared for credit: what the release and the
    person's own views read."""

    week: str
    category: str
    minutes: int
    tool: str | None
    note: str | None
    shared_with_manager: bool


@dataclass(frozen=True)
class LoggedWork:
    """A report just stored, with the person's total for its week (for the confirmation)."""

    week: str
    category: str
    minutes: int
    tool: str | None
    note: str | None
    shared_with_manager: bool
    week_minutes: int

    @property
    def category_name(self) -> str:
        return category_name(self.category)


@dataclass(frozen=True)
class CategoryMinutes:
    category: str
    minutes: int

    @property
    def name(self) -> str:
        return category_name(self.category)


@dataclass(frozen=True)
class WeekMinutes:
    week: str
    minutes: int


@dataclass(frozen=True)
class HiddenWorkSummary:
    """One person's hidden work: this week by category, and the weeks before it."""

    week: str
    by_category: list[CategoryMinutes] = field(default_factory=list)  # only categories logged, in order
    previous_weeks: list[WeekMinutes] = field(default_factory=list)  # most recent first, zeros included

    @property
    def week_minutes(self) -> int:
        return sum(item.minutes for item in self.by_category)
