"""What the Slack builders and the demo render for explainers: plain results, no Slack."""

from __future__ import annotations

from dataclasses import dataclass

from bot.explainers.library import Explainer


@dataclass(frozen=True)
class ExplainerView:
    """One person's explainer message, with the feedback they gave (None: not yet)."""

    explainer: Explainer
    helpful: bool | None = None


@dataclass(frozen=True)
class CouncilQuestion:
    """A question as the council channel shows it. `asker` is a Slack user id only when named."""

    question_id: int
    explainer_key: str
    explainer_title: str
    text: str
    week: str  # the ISO week it was asked in: its time is not kept
    asker: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.asker is None


@dataclass(frozen=True)
class QuestionReceipt:
    """What the asker is told once their question is stored (and, if Slack allowed, posted)."""

    question: CouncilQuestion
    posted: bool
    queued: bool = False  # anonymous: it goes out with the next daily batch
