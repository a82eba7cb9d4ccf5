"""Everything one week's release is computed from, person by person, read once.

The week roster says who was in the week and where; each person's answers, hidden work and
first explainer ratings are found through the pseudonym computed from their Slack id, so nothing
stored beside an answer needs to say whose it is. Sealed values are opened here, and only here
for figures. This is the only place that reads raw inputs
for figures: what leaves here goes to the release, never to an output.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.explainers.service import opened_rating
from bot.labour.service import opened_report
from bot.models import (
    CreditReport,
    Delivery,
    ExplainerDelivery,
    ExplainerFeedback,
    HiddenWorkReport,
    Person,
    PulseRound,
    Response,
    WeekRoster,
)
from bot.privacy import explainer_pseudonym, week_pseudonym
from bot.settings import Question
from bot.surveys.bank import thaw
from bot.surveys.service import opened


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
    comments: list[str] = field(default_factory=list)  # their comments, in no meaningful order
    values: dict[str, dict[int, float]] = field(default_factory=dict)  # question → person → value
    hidden: dict[int, dict[str, int]] = field(default_factory=dict)  # person → category → minutes
    shared: dict[int, dict[str, int]] = field(default_factory=dict)  # … of which shown to managers by name
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
    users: dict[int, str] = {}
    for person_id, team_path, level, user_id in roster:
        inputs.members[person_id] = Member(person_id, team_path, level)
        users[person_id] = user_id
    by_pseudonym = {week_pseudonym(key, week, user_id): person for person, user_id in users.items()}
    _pulse(session, key, week, by_pseudonym, inputs)
    if pulse_only:
        return inputs
    _hidden_work(session, key, week, by_pseudonym, inputs)
    _explainers(session, key, week, users, inputs)
    return inputs


def _pulse(session: Session, key: bytes, week: str, by_pseudonym: dict[str, int], inputs: WeekInputs) -> None:
    pulse_round = session.scalar(select(PulseRound).where(PulseRound.week == week))
    if pulse_round is None:
        return
    inputs.questions = [q for q in thaw(pulse_round.question_set.questions) if q.kind != "text"]
    sent = session.scalars(select(Delivery.person_id).where(Delivery.round_id == pulse_round.id, Delivery.status == "sent"))
    inputs.sent = {person for person in sent if person in inputs.members}
    keys = {q.key for q in inputs.questions}
    rows = session.execute(select(Response.pseudonym, Response.sealed).where(Response.round_id == pulse_round.id))
    for who, sealed in rows:
        person = by_pseudonym.get(who)
        if person is None:
            continue  # filed by someone no longer in the week's roster (forgotten since)
        answered = opened(key, week, who, sealed)
        if answered.skipped:
            continue
        inputs.answered.add(person)
        if answered.comment:
            inputs.comments.append(answered.comment)
        for question_key, value in answered.answers.items():
            if question_key in keys:
                inputs.values.setdefault(question_key, {})[person] = value
    # Someone who answered counts as reached even if the record of the send was lost.
    inputs.sent |= inputs.answered


def _hidden_work(session: Session, key: bytes, week: str, by_pseudonym: dict[str, int], inputs: WeekInputs) -> None:
    minutes: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for who, sealed in session.execute(select(HiddenWorkReport.pseudonym, HiddenWorkReport.sealed).where(HiddenWorkReport.week == week)):
        person = by_pseudonym.get(who)
        if person is not None:
            report = opened_report(key, week, who, sealed)
            minutes[person][report.category] += report.minutes
    # Reports shared for credit name their author: they count like any other, by the same roster.
    credit = session.execute(
        select(CreditReport.person_id, CreditReport.category, func.sum(CreditReport.minutes))
        .where(CreditReport.week == week)
        .group_by(CreditReport.person_id, CreditReport.category)
    )
    shared: dict[int, dict[str, int]] = defaultdict(dict)
    for person, category, total in credit:
        if person in inputs.members:
            minutes[person][category] += int(total or 0)
            shared[person][category] = int(total or 0)
    inputs.hidden = {person: dict(by_category) for person, by_category in minutes.items()}
    inputs.shared = dict(shared)


def _explainers(session: Session, key: bytes, week: str, users: dict[int, str], inputs: WeekInputs) -> None:
    rated = session.execute(
        select(ExplainerFeedback.explainer_key, ExplainerFeedback.pseudonym, ExplainerFeedback.sealed).where(
            ExplainerFeedback.first_week == week
        )
    ).all()
    explainers = sorted({explainer for explainer, _, _ in rated})
    # Only the people an explainer reached can rate it: their pseudonyms for it are all we need.
    whose: dict[tuple[str, str], int] = {}
    if explainers:
        reached = session.execute(
            select(ExplainerDelivery.explainer_key, ExplainerDelivery.person_id).where(
                ExplainerDelivery.explainer_key.in_(explainers), ExplainerDelivery.status == "sent"
            )
        )
        for explainer, person in reached:
            if person in users:
                whose[(explainer, explainer_pseudonym(key, explainer, users[person]))] = person
    for explainer, who, sealed in rated:
        person = whose.get((explainer, who))
        if person is not None:
            inputs.ratings.setdefault(explainer, {})[person] = opened_rating(key, explainer, who, sealed)[1]
    reach = session.execute(
        select(ExplainerDelivery.explainer_key, func.count())
        .where(ExplainerDelivery.week == week, ExplainerDelivery.status == "sent")
        .group_by(ExplainerDelivery.explainer_key)
    )
    inputs.reach = {explainer: int(count) for explainer, count in reach}
