"""The weekly pulse: rounds, who is due, sending, answers, reminders, pause.

Every job asks the database what is due and records what it did, so running it twice sends
nothing twice and a run after downtime catches up.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from bot.calendars.people import CALENDAR_COLUMNS, CalendarRules, DueCohorts, PeopleCalendars
from bot.db import Database, conflict_insert, upsert
from bot.delivery import (
    CLAIM_BATCH,
    Claim,
    LiveRun,
    abandoned,
    claim_rows,
    due_weeks,
    live_run,
    may_send_now,
    not_away,
    not_paused,
    Ledger,
    StatusLedger,
    send_claimed,
    taken_over,
)
from bot.errors import Gone, InvalidAnswer, PulseError, RoundClosed
from bot.i18n import N_, person_language
from bot.messenger import MessageRef, Messenger
from bot.models import (
    COMMENT_MAX_CHARS,
    PAUSED_UNTIL_RESUMED,
    Delivery,
    Person,
    PulseRound,
    QuestionSet,
    Response,
    Team,
)
from bot.keys import require_key
from bot.privacy import random_id, seal, unseal, week_pseudonym
from bot.release.snapshot import snapshot_everyone, snapshot_people, snapshot_person
from bot.roster.service import enrolled_person
from bot.settings import Behaviour, Question, QuestionBank
from bot.surveys.bank import freeze, questions_for_week, thaw
from bot.surveys.views import PulseView, WeekStatus
from bot.weeks import IsoWeek, local_instant, local_now, now, round_closes_at

log = logging.getLogger(__name__)

MAX_PAUSE_WEEKS = 26


# ---------------------------------------------------------------- rounds


def ensure_round(session: Session, week: IsoWeek, bank: QuestionBank, at: dt.datetime) -> PulseRound:
    """The round of `week`, created with the week's questions the first time anyone asks."""
    existing = session.scalar(select(PulseRound).where(PulseRound.week == str(week)))
    if existing is not None:
        return existing
    # The week's snapshot is taken as its round opens: a move later in the week changes nothing.
    snapshot_everyone(session, str(week))
    digest, payload = freeze(questions_for_week(bank, week))
    upsert(session, QuestionSet.__table__, [{"digest": digest, "questions": payload, "created_at": at}], ["digest"])
    question_set_id = session.scalar(select(QuestionSet.id).where(QuestionSet.digest == digest))
    upsert(
        session,
        PulseRound.__table__,
        [{"week": str(week), "question_set_id": question_set_id, "closes_at": round_closes_at(week), "created_at": at}],
        ["week"],
    )
    return session.scalars(select(PulseRound).where(PulseRound.week == str(week))).one()


def _round(session: Session, round_id: int) -> PulseRound:
    pulse_round = session.get(PulseRound, round_id)
    if pulse_round is None:
        raise Gone(N_("That pulse no longer exists."))
    return pulse_round


# ---------------------------------------------------------------- sending


@dataclass
class PulseRun:
    """What one run of the pulse job did."""

    weeks: list[str] = field(default_factory=list)
    queued: int = 0
    sent: int = 0
    recovered: int = 0  # sent by a run that died before recording it; found in Slack, not resent
    failed: int = 0
    held_away: int = 0
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the run did its work: nothing failed for good, and Slack did not stop it."""
        return self.failed == 0 and self.stopped is None

    def summary(self) -> str:
        weeks = ", ".join(self.weeks) or "no round due"
        text = f"pulse {weeks}: sent {self.sent}, failed {self.failed}, held back while away {self.held_away}"
        text += f", found already sent {self.recovered}" if self.recovered else ""
        return text + (f"; stopped early: {self.stopped}" if self.stopped else "")


def _queue_deliveries(session: Session, pulse_round: PulseRound, cohorts: DueCohorts, at: dt.datetime) -> tuple[int, int]:
    """Queue a delivery for everyone due in these cohorts; return (queued, held back while away)."""
    not_sent = ~exists().where(Delivery.round_id == pulse_round.id, Delivery.person_id == Person.id)
    eligible = and_(Person.active.is_(True), not_paused(at), not_sent)
    due = [pid for pid, in cohorts.people(session, eligible, not_away(at))]
    held = len(cohorts.people(session, eligible, ~not_away(at)))
    rows = [{"round_id": pulse_round.id, "person_id": pid, "status": "queued"} for pid in due]
    # The week's snapshot places the person in figures (someone enrolled since the round opened
    # joins it now).
    snapshot_people(session, pulse_round.week, due)
    for start in range(0, len(rows), 1000):
        upsert(session, Delivery.__table__, rows[start : start + 1000], ["round_id", "person_id"])
    return len(rows), held


@dataclass(frozen=True)
class _PulseClaim(Claim):
    pulse_round: PulseRound
    lang: str = "en"  # the person's language


def claim_pulses(
    db: Database,
    at: dt.datetime,
    run_id: Callable[[], int],
    rounds: dict[int, PulseRound] | None = None,
    *,
    language: str = "en",
) -> list[_PulseClaim]:
    """Take a batch of queued deliveries for the run `run_id` names (another clock takes other
    batches), with the claims of runs that died. `rounds` keeps the rounds (and their questions)
    loaded by earlier batches of the same run, so each is read once. `language` is the
    organisation's."""
    query = (
        select(
            Delivery.id, Delivery.status, Delivery.claimed_at, Person.slack_user_id, Delivery.round_id,
            Person.language, Person.locale,
        )
        .join(Person, Person.id == Delivery.person_id)
        .join(PulseRound, PulseRound.id == Delivery.round_id)
        .where(PulseRound.closes_at > at)
    )
    _, rows = claim_rows(db, Delivery, query, run_id)
    if not rows:
        return []
    rounds = {} if rounds is None else rounds
    missing = {row.round_id for row in rows} - rounds.keys()
    if missing:
        with db.session() as session:
            # The question set is loaded with the round: views are built after the session closes.
            claimed = select(PulseRound).options(selectinload(PulseRound.question_set))
            rounds.update((r.id, r) for r in session.scalars(claimed.where(PulseRound.id.in_(missing))))
    return [
        _PulseClaim(
            row.id, row.slack_user_id, taken_over(row), pulse_round=rounds[row.round_id],
            lang=person_language(row.language, row.locale, language),
        )
        for row in rows
    ]


def _send_claimed(db: Database, messenger: Messenger, at: dt.datetime, run: PulseRun, language: str) -> None:
    views: dict[int, PulseView] = {}
    rounds: dict[int, PulseRound] = {}

    def send(claim: _PulseClaim) -> MessageRef:
        view = views.get(claim.pulse_round.id)
        if view is None:  # one view per round: the message is built once, for everyone
            view = views[claim.pulse_round.id] = blank_view(claim.pulse_round)
        return messenger.send_pulse(claim.user_id, view, delivery_id=claim.delivery_id, lang=claim.lang)

    with live_run(db, "pulse") as live:
        ledger: Ledger[_PulseClaim] = StatusLedger(db, Delivery, at, lambda: live.id)
        claims = lambda: claim_pulses(db, at, lambda: live.id, rounds, language=language)  # noqa: E731
        send_claimed(messenger, "pulse", claims, send, ledger, run, live)


def run_pulse_job(
    db: Database,
    messenger: Messenger,
    behaviour: Behaviour,
    *,
    at: dt.datetime | None = None,
    force: bool = False,
    week: IsoWeek | None = None,
) -> PulseRun:
    """DM this week's pulse to everyone whose local send time has passed and who has not had it."""
    at = at or now()
    run = queue_due_pulses(db, behaviour, at=at, force=force, week=week)
    _send_claimed(db, messenger, at, run, behaviour.language)
    log.info("pulse.run weeks=%s sent=%s failed=%s held=%s", run.weeks, run.sent, run.failed, run.held_away)
    return run


def queue_due_pulses(
    db: Database, behaviour: Behaviour, *, at: dt.datetime, force: bool = False, week: IsoWeek | None = None
) -> PulseRun:
    """Queue a delivery for everyone due the pulse now (the first half of the pulse job)."""
    run = PulseRun()
    schedule = behaviour.schedule
    with db.session() as session:
        calendars = PeopleCalendars(behaviour)
        cohorts = calendars.cohorts(session)
        due = due_weeks(calendars, cohorts, schedule, schedule.pulse_day, schedule.pulse_time, at, force=force, week=week)
        for due_week, due_cohorts in sorted(due.items()):
            pulse_round = ensure_round(session, due_week, behaviour.questions, at)
            if pulse_round.closes_at <= at:
                continue
            queued, held = _queue_deliveries(session, pulse_round, due_cohorts, at)
            run.weeks.append(str(due_week))
            run.queued += queued
            run.held_away += held
    return run


# ---------------------------------------------------------------- reminders


@dataclass
class ReminderRun:
    sent: int = 0
    recovered: int = 0  # sent by a run that died before recording it; found in Slack, not resent
    failed: int = 0
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the run did its work: nothing failed for good, and Slack did not stop it."""
        return self.failed == 0 and self.stopped is None

    def summary(self) -> str:
        text = f"reminders: sent {self.sent}, failed {self.failed}"
        text += f", found already sent {self.recovered}" if self.recovered else ""
        return text + (f"; stopped early: {self.stopped}" if self.stopped else "")




def _reminder_claimable(claim_time: dt.datetime) -> ColumnElement[bool]:
    """Not reminded yet, or claimed by a run that has since died."""
    return or_(
        Delivery.reminder_status.is_(None),
        and_(
            Delivery.reminder_status == "sending",
            abandoned(Delivery.reminder_run_id, Delivery.reminded_at, claim_time),
        ),
    )


@dataclass(frozen=True)
class _ReminderClaim(Claim):
    round_id: int
    lang: str = "en"  # the person's language


def _due_reminders(
    db: Database, behaviour: Behaviour, key: bytes, at: dt.datetime, *, force: bool, week: IsoWeek | None
) -> tuple[list[_ReminderClaim], dict[int, PulseView]]:
    """Who is due a reminder now: sent the pulse a while ago, not answered, not reminded yet."""
    delay = behaviour.schedule.reminder_after_hours
    with db.session() as session:
        query = (
            select(Delivery, Person.slack_user_id, Person.language, Person.locale, *CALENDAR_COLUMNS)
            .join(Person, Person.id == Delivery.person_id)
            .join(Team, Team.id == Person.team_id)
            .join(PulseRound, PulseRound.id == Delivery.round_id)
            .where(
                Delivery.status == "sent",
                _reminder_claimable(now()),
                PulseRound.closes_at > at,
                Person.active.is_(True),
                not_paused(at),
                not_away(at),
            )
            .order_by(Delivery.id)
        )
        if week is not None:
            query = query.where(PulseRound.week == str(week))
        if not force and delay is not None:
            query = query.where(Delivery.sent_at <= at - dt.timedelta(hours=delay))
        candidates = session.execute(query).all()
        calendars = PeopleCalendars(behaviour)
        answered: dict[int, set[str]] = {}
        for round_id in {d.round_id for d, *_ in candidates}:
            answered[round_id] = set(session.scalars(select(Response.pseudonym).where(Response.round_id == round_id)))
        due = [
            _ReminderClaim(
                delivery.id,
                user_id,
                taken_over=delivery.reminded_at if delivery.reminder_status == "sending" else None,
                round_id=delivery.round_id,
                lang=person_language(chosen, locale, behaviour.language),
            )
            for delivery, user_id, chosen, locale, *calendar in candidates
            if week_pseudonym(key, delivery.round.week, user_id) not in answered[delivery.round_id]
            # Only on a workday of their own calendar, in working hours; force ignores both.
            and (force or may_send_now(calendars.cohort(*calendar), behaviour.schedule, behaviour.schedule.pulse_time, at))
        ]
        rounds = {d.round_id: d.round for d, *_ in candidates}
        views = {round_id: blank_view(pulse_round) for round_id, pulse_round in rounds.items()}
    return due, views


def _claim_reminders(db: Database, due: Sequence[_ReminderClaim], run: LiveRun) -> list[_ReminderClaim]:
    """Claim a batch just before sending it: a second run (or clock) finds nothing left to remind.

    Each is claimed only if still as it was found (not reminded, or held by a run that died),
    and a claim taken over keeps the time of its first claim, from which its DM is looked for."""
    claim_time = now()
    fresh = [d.delivery_id for d in due if d.taken_over is None]
    dead = [d.delivery_id for d in due if d.taken_over is not None]
    claimed: set[int] = set()
    with db.session() as session:
        if fresh:
            claimed |= set(
                session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(fresh), Delivery.reminder_status.is_(None))
                    .values(reminder_status="sending", reminded_at=claim_time, reminder_run_id=run.id)
                    .returning(Delivery.id)
                ).scalars()
            )
        if dead:
            claimed |= set(
                session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(dead), _reminder_claimable(claim_time), Delivery.reminder_status == "sending")
                    .values(reminder_run_id=run.id)
                    .returning(Delivery.id)
                ).scalars()
            )
    return [claim for claim in due if claim.delivery_id in claimed]


@dataclass(frozen=True)
class _ReminderLedger:
    """Reminders record their claim in `reminder_status`, with `reminded_at` as the first claim
    time and `reminder_run_id` as the run that holds it."""

    db: Database
    run: LiveRun

    def sent(self, sent: Sequence[tuple[_ReminderClaim, MessageRef]]) -> None:
        self._mark([claim for claim, _ in sent], reminder_status="sent", reminder_run_id=None)

    def failed(self, claim: _ReminderClaim, reason: str) -> None:
        self._mark([claim], reminder_status="failed", reminder_run_id=None)

    def release(self, claims: Sequence[_ReminderClaim]) -> None:
        # A claim taken over from a run that died stays claimed, to be looked up by the next run.
        fresh = [c for c in claims if c.taken_over is None]
        if fresh:
            self._mark(
                fresh, Delivery.reminder_run_id == self.run.id, reminder_status=None, reminded_at=None, reminder_run_id=None
            )

    def _mark(self, claims: Sequence[_ReminderClaim], *where: ColumnElement[bool], **values: object) -> None:
        with self.db.transaction() as connection:
            connection.execute(
                update(Delivery).where(Delivery.id.in_([c.delivery_id for c in claims]), *where).values(**values)
            )


def run_reminder_job(
    db: Database,
    messenger: Messenger,
    behaviour: Behaviour,
    key: bytes,
    *,
    at: dt.datetime | None = None,
    force: bool = False,
    week: IsoWeek | None = None,
) -> ReminderRun:
    """One reminder, a while after the pulse, to those who have neither answered nor skipped."""
    at = at or now()
    run = ReminderRun()
    if behaviour.schedule.reminder_after_hours is None:
        return run
    due, views = _due_reminders(db, behaviour, key, at, force=force, week=week)
    batches = iter(range(0, len(due), CLAIM_BATCH))

    def send(claim: _ReminderClaim) -> MessageRef:
        return messenger.send_reminder(claim.user_id, views[claim.round_id], delivery_id=claim.delivery_id, lang=claim.lang)

    with live_run(db, "reminders") as live:

        def claim_batch() -> list[_ReminderClaim]:
            for start in batches:
                if claims := _claim_reminders(db, due[start : start + CLAIM_BATCH], live):
                    return claims
            return []

        send_claimed(messenger, "reminder", claim_batch, send, _ReminderLedger(db, live), run, live)
    log.info("reminders.run sent=%s recovered=%s failed=%s", run.sent, run.recovered, run.failed)
    return run


# ---------------------------------------------------------------- answers


def blank_view(pulse_round: PulseRound) -> PulseView:
    return PulseView(
        round_id=pulse_round.id,
        week=pulse_round.week,
        closes_at=pulse_round.closes_at,
        questions=thaw(pulse_round.question_set.questions),
    )


@dataclass
class Answered:
    """What one person answered in one round, as sealed in their response."""

    answers: dict[str, float] = field(default_factory=dict)
    comment: str | None = None
    skipped: bool = False

    def payload(self) -> dict[str, object]:
        return {"answers": self.answers, "comment": self.comment, "skipped": self.skipped}


def _context(week: str, who: str) -> str:
    return f"responses:{week}:{who}"


def opened(key: bytes, week: str, who: str, sealed: bytes) -> Answered:
    """A response's sealed value, opened (the release and `/pulse mydata` read it the same way)."""
    value = unseal(key, sealed, context=_context(week, who))
    return Answered({k: float(v) for k, v in value["answers"].items()}, value["comment"], bool(value["skipped"]))


def _sealed(key: bytes, week: str, who: str, answered: Answered) -> bytes:
    return seal(key, answered.payload(), context=_context(week, who))


def _view(session: Session, key: bytes, pulse_round: PulseRound, who: str, at: dt.datetime) -> PulseView:
    sealed = session.scalar(select(Response.sealed).where(Response.round_id == pulse_round.id, Response.pseudonym == who))
    if sealed is None:
        return PulseView(**{**blank_view(pulse_round).__dict__, "closed": pulse_round.closes_at <= at})
    return _answered_view(pulse_round, opened(key, pulse_round.week, who, sealed), at)


def _answered_view(pulse_round: PulseRound, answered: Answered, at: dt.datetime) -> PulseView:
    base = blank_view(pulse_round)
    closed = pulse_round.closes_at <= at
    chosen: dict[str, int] = {}
    for question in base.questions:
        value = answered.answers.get(question.key)
        for index, option in enumerate(question.options):
            if value is not None and option.value == value:
                chosen[question.key] = index
    return PulseView(
        **{**base.__dict__, "chosen": chosen, "comment": answered.comment, "skipped": answered.skipped, "closed": closed}
    )


def _open_round(session: Session, round_id: int, at: dt.datetime) -> PulseRound:
    pulse_round = _round(session, round_id)
    if pulse_round.closes_at <= at:
        raise RoundClosed(N_("The pulse for {week} has closed; answers are no longer recorded."), week=pulse_round.week)
    return pulse_round


def _change(
    session: Session, key: bytes, pulse_round: PulseRound, person: Person, who: str, change: Callable[[Answered], None]
) -> Answered:
    """Apply `change` to the person's response, created once even when two clicks race, and
    return the response as it now stands.

    The insert comes first: on SQLite it takes the database's write lock, on PostgreSQL a racing
    insert waits for it, and the row is then read locked (FOR UPDATE), so two clicks of one person
    are applied one after the other and neither is lost.
    """
    require_key(session, key)
    snapshot_person(session, pulse_round.week, person)
    statement = conflict_insert(session, Response).values(
        id=random_id(), round_id=pulse_round.id, pseudonym=who, sealed=_sealed(key, pulse_round.week, who, Answered())
    )
    session.execute(statement.on_conflict_do_nothing(index_elements=["round_id", "pseudonym"]))
    row = session.execute(
        select(Response.id, Response.sealed)
        .where(Response.round_id == pulse_round.id, Response.pseudonym == who)
        .with_for_update()
    ).one()
    answered = opened(key, pulse_round.week, who, row.sealed)
    change(answered)
    session.execute(update(Response).where(Response.id == row.id).values(sealed=_sealed(key, pulse_round.week, who, answered)))
    return answered


def record_answer(
    db: Database,
    key: bytes,
    user_id: str,
    round_id: int,
    question_key: str,
    option_index: int,
    *,
    at: dt.datetime | None = None,
) -> PulseView:
    """Record (or change) one answer; clicking the same button twice leaves one answer."""
    return record_answers(db, key, user_id, round_id, {question_key: option_index}, at=at)


def record_answers(
    db: Database,
    key: bytes,
    user_id: str,
    round_id: int,
    chosen: Mapping[str, int],
    *,
    at: dt.datetime | None = None,
) -> PulseView:
    """Record (or change) answers to several questions of one pulse at once, all or none: each
    question key with the index of the option chosen."""
    at = at or now()
    with db.session() as session:
        person = enrolled_person(session, user_id)
        pulse_round = _open_round(session, round_id, at)
        questions = {q.key: q for q in thaw(pulse_round.question_set.questions)}
        values: dict[str, float] = {}
        for question_key, option_index in chosen.items():
            question = questions.get(question_key)
            if question is None:
                raise Gone(N_("That question is not in this pulse."))
            if question.kind == "text" or not 0 <= option_index < len(question.options):
                raise InvalidAnswer(N_("That answer does not belong to this pulse."))
            values[question.key] = float(question.options[option_index].value)
        who = week_pseudonym(key, pulse_round.week, user_id)

        def answer(answered: Answered) -> None:
            answered.answers.update(values)
            answered.skipped = False

        return _answered_view(pulse_round, _change(session, key, pulse_round, person, who, answer), at)


def record_comment(
    db: Database, key: bytes, user_id: str, round_id: int, text: str, *, at: dt.datetime | None = None
) -> PulseView:
    """Store the optional free-text comment; an empty one removes it."""
    at = at or now()
    text = text.strip()
    if len(text) > COMMENT_MAX_CHARS:
        raise InvalidAnswer(
            N_("Keep the comment under {most} characters (it has {count})."), most=COMMENT_MAX_CHARS, count=len(text)
        )
    with db.session() as session:
        person = enrolled_person(session, user_id)
        pulse_round = _open_round(session, round_id, at)
        if not any(q.kind == "text" for q in thaw(pulse_round.question_set.questions)):
            raise InvalidAnswer(N_("This pulse has no comment question."))
        who = week_pseudonym(key, pulse_round.week, user_id)
        exists_already = session.scalar(
            select(Response.id).where(Response.round_id == pulse_round.id, Response.pseudonym == who)
        )
        # Clearing a comment is no answer: it neither counts the person as responding nor undoes
        # a skipped week.
        if text or exists_already is not None:

            def comment(answered: Answered) -> None:
                answered.comment = text or None
                if text:
                    answered.skipped = False

            _change(session, key, pulse_round, person, who, comment)
        return _view(session, key, pulse_round, who, at)


def skip_week(db: Database, key: bytes, user_id: str, round_id: int, *, at: dt.datetime | None = None) -> PulseView:
    """"Skip this week": any answers already given for the round are removed, not half-kept."""
    at = at or now()
    with db.session() as session:
        person = enrolled_person(session, user_id)
        pulse_round = _open_round(session, round_id, at)
        who = week_pseudonym(key, pulse_round.week, user_id)

        def skip(answered: Answered) -> None:
            answered.answers, answered.comment, answered.skipped = {}, None, True

        return _answered_view(pulse_round, _change(session, key, pulse_round, person, who, skip), at)


def answer_after_all(
    db: Database, key: bytes, user_id: str, round_id: int, *, at: dt.datetime | None = None
) -> PulseView:
    """Undo a skip, so the pulse shows its questions again."""
    at = at or now()
    with db.session() as session:
        person = enrolled_person(session, user_id)
        pulse_round = _open_round(session, round_id, at)
        who = week_pseudonym(key, pulse_round.week, user_id)
        if session.scalar(select(Response.id).where(Response.round_id == round_id, Response.pseudonym == who)) is not None:

            def unskip(answered: Answered) -> None:
                answered.skipped = False

            _change(session, key, pulse_round, person, who, unskip)
        return _view(session, key, pulse_round, who, at)


def pulse_for(db: Database, key: bytes, user_id: str, round_id: int, *, at: dt.datetime | None = None) -> PulseView:
    at = at or now()
    with db.session() as session:
        enrolled_person(session, user_id)
        pulse_round = _round(session, round_id)
        return _view(session, key, pulse_round, week_pseudonym(key, pulse_round.week, user_id), at)


def questions_by_week(db: Database, weeks: Sequence[str]) -> dict[str, list[Question]]:
    """The questions each week's round asked, as frozen then; a week without a round asked none."""
    with db.session() as session:
        rows = session.execute(
            select(PulseRound.week, QuestionSet.questions)
            .join(QuestionSet, QuestionSet.id == PulseRound.question_set_id)
            .where(PulseRound.week.in_(list(weeks)))
        ).all()
    found = {week: thaw(questions) for week, questions in rows}
    return {week: found.get(week, []) for week in weeks}


def delivery_message(db: Database, user_id: str, round_id: int) -> MessageRef | None:
    """Where the person's pulse message for the round is, to update it after a modal."""
    with db.session() as session:
        row = session.execute(
            select(Delivery.channel_id, Delivery.message_ts)
            .join(Person, Person.id == Delivery.person_id)
            .where(Delivery.round_id == round_id, Person.slack_user_id == user_id, Delivery.status == "sent")
        ).first()
    if row is None or row.channel_id is None or row.message_ts is None:
        return None
    return MessageRef(row.channel_id, row.message_ts)


# ---------------------------------------------------------------- pause


class InvalidPause(PulseError):
    pass


def pause(db: Database, user_id: str, weeks: int | None, *, at: dt.datetime | None = None) -> dt.date:
    """Pause pulses for `weeks` weeks, or until resumed; returns the last paused day."""
    at = at or now()
    if weeks is not None and not 1 <= weeks <= MAX_PAUSE_WEEKS:
        raise InvalidPause(N_("Pause for 1 to {most} weeks, e.g. `/pulse pause 2w`."), most=MAX_PAUSE_WEEKS)
    with db.session() as session:
        person = enrolled_person(session, user_id)
        until = PAUSED_UNTIL_RESUMED if weeks is None else at.date() + dt.timedelta(weeks=weeks) - dt.timedelta(days=1)
        person.paused_until = until
        return until


def resume(db: Database, user_id: str, *, at: dt.datetime | None = None) -> bool:
    """Resume pulses; returns whether the person was paused."""
    at = at or now()
    with db.session() as session:
        person = enrolled_person(session, user_id)
        was_paused = person.paused_until is not None and person.paused_until >= at.date()
        person.paused_until = None
        return was_paused


# ---------------------------------------------------------------- App Home


def week_status(
    db: Database, behaviour: Behaviour, key: bytes, user_id: str, *, at: dt.datetime | None = None
) -> WeekStatus:
    at = at or now()
    with db.session() as session:
        person = session.scalar(select(Person).where(Person.slack_user_id == user_id))
        if person is None or not person.active:
            return WeekStatus(enrolled=False, week=str(IsoWeek.of(at.date())))
        local = local_now(person.tz, at)
        week = IsoWeek.of(local.date())
        paused = person.paused_until if person.paused_until and person.paused_until >= at.date() else None
        pulse_round = session.scalar(select(PulseRound).where(PulseRound.week == str(week)))
        delivery = None
        if pulse_round is not None:
            delivery = session.scalar(
                select(Delivery).where(Delivery.round_id == pulse_round.id, Delivery.person_id == person.id)
            )
        if pulse_round is not None and delivery is not None and delivery.status == "sent":
            view = _view(session, key, pulse_round, week_pseudonym(key, pulse_round.week, user_id), at)
            return WeekStatus(enrolled=True, week=str(week), paused_until=paused, pulse=view, sent=True, tz=person.tz)
        # The pulse day, or the person's next workday of the week when that day is off for them.
        calendar = CalendarRules.of(behaviour).calendar(person.team.path, person.workdays, person.country)
        day = calendar.first_workday(week, behaviour.schedule.pulse_day)
        if day is None:
            return WeekStatus(enrolled=True, week=str(week), paused_until=paused, tz=person.tz, days_off=True)
        expected = local_instant(person.tz, day, behaviour.schedule.pulse_time)
        return WeekStatus(enrolled=True, week=str(week), paused_until=paused, expected_at=expected, tz=person.tz)
