"""A person's data rights: see everything stored about them, and delete it.

What was answered is found through the person's pseudonym, computed from their Slack id at the
moment they ask; nothing in the database links the two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import delete, select

from bot.db import Database
from bot.models import (
    Answer,
    Delivery,
    ExplainerDelivery,
    ExplainerFeedback,
    ExplainerQuestion,
    HiddenWorkReport,
    Person,
    PulseRound,
    Response,
    Team,
)
from bot.labour.service import own_reports
from bot.privacy import pseudonym
from bot.surveys.bank import thaw


@dataclass(frozen=True)
class MyData:
    enrolled: bool
    team: str | None = None
    level: str | None = None
    council: bool = False
    time_zone: str | None = None
    paused_until: dt.date | None = None
    pulses_sent: tuple[str, ...] = ()  # weeks
    answers: tuple[tuple[str, str, str], ...] = ()  # (week, question, answer)
    skipped_weeks: tuple[str, ...] = ()
    hidden_work: tuple[tuple[str, str, int, bool], ...] = ()  # (week, category, minutes, shown to manager)
    explainers_sent: int = 0
    feedback_given: int = 0
    named_questions: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


def my_data(db: Database, key: bytes, user_id: str) -> MyData:
    who = pseudonym(key, user_id)
    with db.session() as session:
        person = session.scalar(select(Person).where(Person.slack_user_id == user_id))
        team = session.get(Team, person.team_id) if person else None
        sent = session.scalars(
            select(PulseRound.week)
            .join(Delivery, Delivery.round_id == PulseRound.id)
            .where(Delivery.person_id == (person.id if person else -1), Delivery.status == "sent")
            .order_by(PulseRound.week)
        ).all()
        answers, skipped = [], []
        for response, pulse_round in session.execute(
            select(Response, PulseRound).join(PulseRound, PulseRound.id == Response.round_id).where(Response.pseudonym == who).order_by(PulseRound.week)
        ).all():
            if response.skipped:
                skipped.append(pulse_round.week)
            questions = {q.key: q for q in thaw(pulse_round.question_set.questions)}
            for answer in response.answers:
                question = questions.get(answer.question_key)
                label = answer.text if answer.text is not None else _label(question, answer.value)
                answers.append((pulse_round.week, question.text if question else answer.question_key, label))
        person_id = person.id if person else -1
        hidden = session.execute(
            select(HiddenWorkReport.week, HiddenWorkReport.category, HiddenWorkReport.minutes, HiddenWorkReport.shared_with_manager)
            .where(own_reports(who, person_id))
            .order_by(HiddenWorkReport.week, HiddenWorkReport.id)
        ).all()
        explainers = len(session.scalars(select(ExplainerDelivery.id).where(ExplainerDelivery.person_id == person_id)).all())
        feedback = len(session.scalars(select(ExplainerFeedback.id).where(ExplainerFeedback.pseudonym == who)).all())
        named = len(session.scalars(select(ExplainerQuestion.id).where(ExplainerQuestion.person_id == person_id)).all())
    return MyData(
        enrolled=person is not None and person.active,
        team=team.path if team else None,
        level=person.level if person else None,
        council=bool(person and person.is_council),
        time_zone=person.tz if person else None,
        paused_until=person.paused_until if person else None,
        pulses_sent=tuple(sent),
        answers=tuple(answers),
        skipped_weeks=tuple(skipped),
        hidden_work=tuple((w, c, m, s) for w, c, m, s in hidden),
        explainers_sent=explainers,
        feedback_given=feedback,
        named_questions=named,
        notes=("Questions you asked anonymously cannot be linked to you, so they are not listed.",),
    )


def _label(question: object, value: float | None) -> str:
    for option in getattr(question, "options", ()):
        if option.value == value:
            return str(option.label)
    return "" if value is None else f"{value:g}"


@dataclass(frozen=True)
class Forgotten:
    responses: int
    answers: int
    hidden_work: int
    feedback: int
    named_questions: int

    def summary(self) -> str:
        return (
            f"Deleted {_count(self.answers, 'answer')} in {_count(self.responses, 'weekly pulse')}, "
            f"{_count(self.hidden_work, 'hidden-work report')}, {_count(self.feedback, 'explainer rating')} "
            f"and {_count(self.named_questions, 'question')} asked with your name."
        )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def forget(db: Database, key: bytes, user_id: str) -> Forgotten:
    """Delete everything answered or logged under the person's pseudonym, in one transaction.

    Weeks already released keep their figures: they are aggregates, name nobody, and are never
    recounted (a figure recounted without one person would show exactly what that person had
    answered). The roster entry stays too, since it is the admin's; the person can still pause
    or ask to be removed.
    """
    who = pseudonym(key, user_id)
    with db.session() as session:
        person_id = session.scalar(select(Person.id).where(Person.slack_user_id == user_id)) or -1
        response_ids = session.scalars(select(Response.id).where(Response.pseudonym == who)).all()
        answers = len(session.scalars(select(Answer.id).where(Answer.response_id.in_(response_ids))).all())
        responses = session.execute(delete(Response).where(Response.pseudonym == who)).rowcount
        hidden = session.execute(delete(HiddenWorkReport).where(own_reports(who, person_id))).rowcount
        feedback = session.execute(delete(ExplainerFeedback).where(ExplainerFeedback.pseudonym == who)).rowcount
        named = session.execute(delete(ExplainerQuestion).where(ExplainerQuestion.person_id == person_id)).rowcount
    return Forgotten(int(responses or 0), answers, int(hidden or 0), int(feedback or 0), int(named or 0))
