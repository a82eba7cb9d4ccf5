"""Everything one week's release is computed from, person by person, read once.

The week roster says who was in the week and where; each person's answers, hidden work and
first explainer ratings are found through the pseudonym computed from their Slack id, so nothing
stored beside an answer needs to say whose it is. This is the only place that reads raw inputs
for figures: what leaves here goes to the release, never to an output.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import (
    Answer,
    Delivery,
    ExplainerDelivery,
    ExplainerFeedback,
    HiddenWorkReport,
    Person,
    PulseRound,
    Response,
    WeekRoster,
)
from bot.privacy import pseudonym
from bot.settings import Question
from bot.surveys.bank import thaw


@dataclass(frozen=True)
class Member:
    """A person as the week's snapshot placed them. `person` is an opaque id, never shown."""

    person: int
    team: str
    level: str | None


@dataclass
class WeekInputs:
    week: str
    members: dict[int, Member] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)  # the round's, free text excluded
    sent: set[int] = field(default_factory=set)  # people the pulse reached
    answered: set[int] = field(default_factory=set)  # people with a response that is not a skip
    values: dict[str, dict[int, float]] = field(default_factory=dict)  # question → person → value
    hidden: dict[int, dict[str, int]] = field(default_factory=dict)  # person → category → minutes
    ratings: dict[str, dict[int, bool]] = field(default_factory=dict)  # explainer → person → first rating
    reach: dict[str, int] = field(default_factory=dict)  # explainer → people it reached this week


def gather(session: Session, key: bytes, week: str, *, pulse_only: bool = False) -> WeekInputs:
    """The week's inputs; `pulse_only` reads who was sent the pulse and who answered, nothing else."""
    inputs = WeekInputs(week)
    roster = session.execute(
        select(WeekRoster.person_id, WeekRoster.team_path, WeekRoster.level, Person.slack_user_id)
        .join(Person, Person.id == WeekRoster.person_id)
        .where(WeekRoster.week == week)
    ).all()
    by_pseudonym: dict[str, int] = {}
    for person_id, team_path, level, user_id in roster:
        inputs.members[person_id] = Member(person_id, team_path, level)
        by_pseudonym[pseudonym(key, user_id)] = person_id
    _pulse(session, week, by_pseudonym, inputs)
    if pulse_only:
        return inputs
    _hidden_work(session, week, by_pseudonym, inputs)
    _explainers(session, week, by_pseudonym, inputs)
    return inputs


def _pulse(session: Session, week: str, by_pseudonym: dict[str, int], inputs: WeekInputs) -> None:
    pulse_round = session.scalar(select(PulseRound).where(PulseRound.week == week))
    if pulse_round is None:
        return
    inputs.questions = [q for q in thaw(pulse_round.question_set.questions) if q.kind != "text"]
    sent = session.scalars(select(Delivery.person_id).where(Delivery.round_id == pulse_round.id, Delivery.status == "sent"))
    inputs.sent = {person for person in sent if person in inputs.members}
    responses = session.execute(
        select(Response.id, Response.pseudonym, Response.skipped).where(Response.round_id == pulse_round.id)
    ).all()
    owner = {rid: by_pseudonym[who] for rid, who, skipped in responses if not skipped and who in by_pseudonym}
    keys = {q.key for q in inputs.questions}
    if owner:
        answers = session.execute(
            select(Answer.response_id, Answer.question_key, Answer.value)
            .join(Response, Response.id == Answer.response_id)
            .where(Response.round_id == pulse_round.id, Response.skipped.is_(False), Answer.value.is_not(None))
        )
        for response_id, question_key, value in answers:
            person = owner.get(response_id)
            if person is not None and question_key in keys:
                inputs.values.setdefault(question_key, {})[person] = float(value)
    inputs.answered = set(owner.values())
    # Someone who answered counts as reached even if the record of the send was lost.
    inputs.sent |= inputs.answered


def _hidden_work(session: Session, week: str, by_pseudonym: dict[str, int], inputs: WeekInputs) -> None:
    minutes: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = session.execute(
        select(HiddenWorkReport.pseudonym, HiddenWorkReport.person_id, HiddenWorkReport.category, func.sum(HiddenWorkReport.minutes))
        .where(HiddenWorkReport.week == week)
        .group_by(HiddenWorkReport.pseudonym, HiddenWorkReport.person_id, HiddenWorkReport.category)
    )
    for who, named, category, total in rows:
        # A report shared for credit names its author and carries a random pseudonym instead.
        person = named if named is not None else by_pseudonym.get(who)
        if person is not None and person in inputs.members:
            minutes[person][category] += int(total or 0)
    inputs.hidden = {person: dict(by_category) for person, by_category in minutes.items()}


def _explainers(session: Session, week: str, by_pseudonym: dict[str, int], inputs: WeekInputs) -> None:
    rows = session.execute(
        select(ExplainerFeedback.explainer_key, ExplainerFeedback.pseudonym, ExplainerFeedback.first_helpful).where(
            ExplainerFeedback.first_week == week
        )
    )
    for explainer, who, helpful in rows:
        person = by_pseudonym.get(who)
        if person is not None:
            inputs.ratings.setdefault(explainer, {})[person] = bool(helpful)
    reach = session.execute(
        select(ExplainerDelivery.explainer_key, func.count())
        .where(ExplainerDelivery.week == week, ExplainerDelivery.status == "sent")
        .group_by(ExplainerDelivery.explainer_key)
    )
    inputs.reach = {explainer: int(count) for explainer, count in reach}
