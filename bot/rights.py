"""A person's data rights: see everything stored about them, and delete it.

What was answered is found through the person's pseudonyms (one per week, one per explainer),
computed from their Slack id at the moment they ask; nothing in the database links the two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from bot.i18n import ENGLISH, N_, Translator
from bot.db import Database
from bot.models import (
    CreditReport,
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
from bot.labour.service import own_reports, report_weeks
from bot.labour.views import Logged
from bot.privacy import explainer_pseudonym, week_pseudonym
from bot.surveys.bank import thaw
from bot.surveys.service import opened


@dataclass(frozen=True)
class MyData:
    enrolled: bool
    team: str | None = None
    level: str | None = None
    council: bool = False
    time_zone: str | None = None
    workdays: str | None = None  # the person's own, from the roster (else their team's or the default)
    country: str | None = None
    paused_until: dt.date | None = None
    pulses_sent: tuple[str, ...] = ()  # weeks
    answers: tuple[tuple[str, str, str], ...] = ()  # (week, question, answer)
    skipped_weeks: tuple[str, ...] = ()
    hidden_work: tuple[Logged, ...] = ()  # every report, with its tool and note
    explainers_sent: int = 0
    feedback_given: int = 0
    named_questions: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


def _responses(session: Session, key: bytes, user_id: str) -> list[tuple[str, PulseRound, bytes]]:
    """The person's responses (id, round, sealed value), found through each week's pseudonym."""
    rounds = {r.id: r for r in session.scalars(select(PulseRound).order_by(PulseRound.week))}
    whose = {(round_id, week_pseudonym(key, r.week, user_id)) for round_id, r in rounds.items()}
    if not whose:
        return []
    # By (round, pseudonym): the responses' unique key, so the look-up reads the index, not the table.
    rows = session.execute(
        select(Response.id, Response.round_id, Response.sealed).where(
            tuple_(Response.round_id, Response.pseudonym).in_(sorted(whose))
        )
    ).all()
    found = [(rid, rounds[round_id], sealed) for rid, round_id, sealed in rows]
    return sorted(found, key=lambda item: item[1].week)


def _ratings(session: Session, key: bytes, user_id: str) -> list[str]:
    """The ids of the person's explainer ratings, found through each explainer's pseudonym."""
    explainers = session.scalars(select(ExplainerFeedback.explainer_key).distinct()).all()
    whose = {explainer_pseudonym(key, explainer, user_id) for explainer in explainers}
    if not whose:
        return []
    return list(session.scalars(select(ExplainerFeedback.id).where(ExplainerFeedback.pseudonym.in_(list(whose)))))


def _anonymous_reports(session: Session, key: bytes, user_id: str) -> list[str]:
    """The ids of the person's anonymous hidden-work reports, found through each week's pseudonym."""
    weeks = report_weeks(session)
    whose = {week_pseudonym(key, week, user_id) for week in weeks}
    if not whose:
        return []
    return list(session.scalars(select(HiddenWorkReport.id).where(HiddenWorkReport.pseudonym.in_(list(whose)))))


def my_data(db: Database, key: bytes, user_id: str, *, lang: str = "en") -> MyData:
    with db.session() as session:
        person = session.scalar(select(Person).where(Person.slack_user_id == user_id))
        team = session.get(Team, person.team_id) if person else None
        person_id = person.id if person else -1
        sent = session.scalars(
            select(PulseRound.week)
            .join(Delivery, Delivery.round_id == PulseRound.id)
            .where(Delivery.person_id == person_id, Delivery.status == "sent")
            .order_by(PulseRound.week)
        ).all()
        answers, skipped = [], []
        for _, pulse_round, sealed in _responses(session, key, user_id):
            answered = opened(key, pulse_round.week, week_pseudonym(key, pulse_round.week, user_id), sealed)
            if answered.skipped:
                skipped.append(pulse_round.week)
            for question in thaw(pulse_round.question_set.questions):
                if question.key in answered.answers:
                    label = _label(question, answered.answers[question.key], lang)
                    answers.append((pulse_round.week, question.text_in(lang), label))
                elif question.kind == "text" and answered.comment:
                    answers.append((pulse_round.week, question.text_in(lang), answered.comment))
        reports = own_reports(session, key, user_id, person_id, report_weeks(session))
        explainers = len(session.scalars(select(ExplainerDelivery.id).where(ExplainerDelivery.person_id == person_id)).all())
        feedback = len(_ratings(session, key, user_id))
        named = len(session.scalars(select(ExplainerQuestion.id).where(ExplainerQuestion.person_id == person_id)).all())
    return MyData(
        enrolled=person is not None and person.active,
        team=team.path if team else None,
        level=person.level if person else None,
        council=bool(person and person.is_council),
        time_zone=person.tz if person else None,
        workdays=person.workdays if person else None,
        country=person.country if person else None,
        paused_until=person.paused_until if person else None,
        pulses_sent=tuple(sent),
        answers=tuple(answers),
        skipped_weeks=tuple(skipped),
        hidden_work=tuple(reports),
        explainers_sent=explainers,
        feedback_given=feedback,
        named_questions=named,
        notes=(
            N_("Questions you asked anonymously cannot be linked to you, so they are not listed."),
            N_(
                "Weekly figures already released still include your past answers: they are totals over "
                "at least the minimum group, name nobody, and are never recounted."
            ),
            N_(
                "A comment of a released week was also copied, word for word and without your name, to the "
                "council's comments for that week; nothing links that copy to you, so it cannot be found "
                "again to be shown here or deleted."
            ),
        ),
    )


def _label(question: object, value: float | None, lang: str = "en") -> str:
    for option in getattr(question, "options", ()):
        if option.value == value:
            return str(option.label_in(lang))
    return "" if value is None else f"{value:g}"


@dataclass(frozen=True)
class Forgotten:
    responses: int
    answers: int
    hidden_work: int
    feedback: int
    named_questions: int

    def summary(self, t: Translator = ENGLISH) -> str:
        return t.gettext(
            "Deleted {answers} in {pulses}, {reports}, {ratings} and {questions} asked with your name. "
            "Weekly totals already released still include what you answered: they cover at least "
            "the minimum group, name nobody and are never recounted. Comments already released to the "
            "council stay with them: nothing links them to you, so they cannot be found to be deleted.",
            answers=t.ngettext("{n} answer", "{n} answers", self.answers),
            pulses=t.ngettext("{n} weekly pulse", "{n} weekly pulses", self.responses),
            reports=t.ngettext("{n} hidden-work report", "{n} hidden-work reports", self.hidden_work),
            ratings=t.ngettext("{n} explainer rating", "{n} explainer ratings", self.feedback),
            questions=t.ngettext("{n} question", "{n} questions", self.named_questions),
        )


def forget(db: Database, key: bytes, user_id: str) -> Forgotten:
    """Delete everything answered or logged under the person's pseudonym, in one transaction.

    Weeks already released keep their figures: they are aggregates, name nobody, and are never
    recounted (a figure recounted without one person would show exactly what that person had
    answered). The roster entry stays too, since it is the admin's; the person can still pause
    or ask to be removed.
    """
    with db.session() as session:
        person_id = session.scalar(select(Person.id).where(Person.slack_user_id == user_id)) or -1
        mine = _responses(session, key, user_id)
        answers = 0
        for _, pulse_round, sealed in mine:
            answered = opened(key, pulse_round.week, week_pseudonym(key, pulse_round.week, user_id), sealed)
            answers += len(answered.answers) + (1 if answered.comment else 0)
        responses = session.execute(delete(Response).where(Response.id.in_([rid for rid, _, _ in mine]))).rowcount
        hidden = session.execute(
            delete(HiddenWorkReport).where(HiddenWorkReport.id.in_(_anonymous_reports(session, key, user_id)))
        ).rowcount
        hidden += session.execute(delete(CreditReport).where(CreditReport.person_id == person_id)).rowcount
        feedback = session.execute(delete(ExplainerFeedback).where(ExplainerFeedback.id.in_(_ratings(session, key, user_id)))).rowcount
        named = session.execute(delete(ExplainerQuestion).where(ExplainerQuestion.person_id == person_id)).rowcount
    return Forgotten(int(responses or 0), answers, int(hidden or 0), int(feedback or 0), int(named or 0))
