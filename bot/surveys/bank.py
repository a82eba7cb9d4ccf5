"""Which questions a week asks: every core question, plus rotating ones taken in turn."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from bot.settings import Question, QuestionBank
from bot.weeks import IsoWeek


def questions_for_week(bank: QuestionBank, week: IsoWeek) -> list[Question]:
    """Core questions (free text last) plus `rotating_per_week` rotating ones, round-robin by week.

    Consecutive weeks take consecutive slices of the rotating pool, so every rotating question is
    asked equally often and nobody answers the whole bank in one week.
    """
    chosen: list[Question] = []
    pool = bank.rotating
    if pool and bank.rotating_per_week:
        start = week.ordinal * bank.rotating_per_week
        chosen = [pool[(start + i) % len(pool)] for i in range(bank.rotating_per_week)]
    closed = [q for q in bank.core if q.kind != "text"]
    free_text = [q for q in bank.core if q.kind == "text"]
    return [*closed, *chosen, *free_text]


def freeze(questions: list[Question]) -> tuple[str, list[dict[str, Any]]]:
    """The stored form of a question set and its digest (equal sets share one row)."""
    payload = [q.model_dump(mode="json") for q in questions]
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()
    return digest, payload


def thaw(payload: list[dict[str, Any]]) -> list[Question]:
    """The questions of a stored set. A set never changes and its questions are immutable, so each
    is validated once per process, not at every click that reads it."""
    return list(_thawed(json.dumps(payload, sort_keys=True)))


@lru_cache(maxsize=64)
def _thawed(stored: str) -> tuple[Question, ...]:
    return tuple(Question.model_validate(item) for item in json.loads(stored))
