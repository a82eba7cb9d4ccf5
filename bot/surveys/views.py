"""What a person sees of a round: plain results the Slack builders and the demo render."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.settings import Question


@dataclass(frozen=True)
class PulseView:
    """One person's pulse message for one round, with what they have recorded so far."""

    round_id: int
    week: str
    closes_at: dt.datetime
    questions: list[Question]
    chosen: dict[str, int] = field(default_factory=dict)  # question key -> option index
    comment: str | None = None
    skipped: bool = False
    closed: bool = False

    @property
    def closed_questions(self) -> list[Question]:
        return [q for q in self.questions if q.kind != "text"]

    @property
    def comment_question(self) -> Question | None:
        return next((q for q in self.questions if q.kind == "text"), None)

    @property
    def answered(self) -> int:
        return sum(q.key in self.chosen for q in self.closed_questions)

    @property
    def complete(self) -> bool:
        return self.answered == len(self.closed_questions)


@dataclass(frozen=True)
class WeekStatus:
    """The App Home's view of a person's week."""

    enrolled: bool
    week: str
    paused_until: dt.date | None = None
    pulse: PulseView | None = None
    sent: bool = False
    expected_at: dt.datetime | None = None  # local time the pulse is due, when not yet sent
    days_off: bool = False  # the rest of the week is days off for them: no pulse this week
    tz: str = "UTC"
