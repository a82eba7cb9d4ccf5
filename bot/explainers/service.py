"""The weekly explainer: who gets which one, feedback and questions for the council.

Like the pulse, the job asks the database what is due and records what it did: one explainer per
person per ISO week (a unique key in the database), each explainer at most once per person, so a
second run sends nothing and a run after downtime catches up.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.orm import Session

from bot.i18n import N_, person_language
from bot.calendars.people import DueCohorts, PeopleCalendars
from bot.db import Database, conflict_insert, upsert
from bot.delivery import (
    Claim,
    claim_rows,
    due_weeks,
    live_run,
    not_away,
    not_paused,
    Ledger,
    StatusLedger,
    send_claimed,
    taken_over,
)
from bot.errors import PulseError
from bot.explainers.library import Explainer, Library, within_team
from bot.explainers.views import CouncilQuestion, QuestionReceipt
from bot.messenger import ChannelUnavailable, DeliveryFailed, MessageRef, Messenger
from bot.models import (
    QUESTION_MAX_CHARS,
    ExplainerDelivery,
    ExplainerFeedback,
    ExplainerQuestion,
    QuestionBatch,
    Person,
    Rollout,
    RolloutTeam,
    Team,
)
from bot.keys import require_key
from bot.release.snapshot import snapshot_person
from bot.privacy import explainer_pseudonym, large_enough, random_id, seal, unseal
from bot.rollouts.service import weeks_since_go_live
from bot.roster.service import enrolled_person
from bot.settings import Behaviour
from bot.weeks import IsoWeek, local_instant, local_now, now

log = logging.getLogger(__name__)

CHUNK = 1000


class InvalidQuestion(PulseError):
    """A question that is empty or too long; nothing is stored."""


class NoCouncilChannel(PulseError):
    """PULSE_COUNCIL_CHANNEL is not set, so a question would have nowhere to go."""


class UnknownExplainer(PulseError):
    """A button or modal names an explainer this person was never sent."""


class TraceableQuestion(PulseError):
    """An anonymous question about an explainer so few people received that the asker could be told."""


NO_COUNCIL_CHANNEL = N_(
    "Questions can't be sent yet: no council channel is set up. "
    "Please ask your Rollout Pulse admin to set PULSE_COUNCIL_CHANNEL."
)


# ---------------------------------------------------------------- who gets which explainer


@dataclass(frozen=True)
class Reader:
    """What decides which explainer fits a person in a given week."""

    team_path: str
    level: str | None
    rollout_weeks: Mapping[str, int]  # rollouts covering the team: name -> weeks since go-live
    seen: frozenset[str] = frozenset()


def fits(explainer: Explainer, reader: Reader) -> bool:
    audience = explainer.audience
    if not audience.includes_team(reader.team_path) or not audience.includes_level(reader.level):
        return False
    rollouts = {name: weeks for name, weeks in reader.rollout_weeks.items() if not audience.rollouts or name in audience.rollouts}
    if audience.rollouts and not rollouts:
        return False
    if explainer.week_offset is None:
        return True
    # Timed explainers follow a go-live, so they only reach people a rollout covers.
    return any(weeks >= explainer.week_offset for weeks in rollouts.values())


def next_explainer(library: Library, reader: Reader) -> Explainer | None:
    """The first explainer in reading order that fits the reader and that they have not had."""
    return next((e for e in library if e.key not in reader.seen and fits(e, reader)), None)


@dataclass(frozen=True)
class _Organisation:
    """Teams and rollouts, read once per run: the fan-out never queries them per person."""

    team_paths: Mapping[int, str]
    rollouts: tuple[tuple[str, dt.date, tuple[str, ...]], ...]  # name, go-live, team paths covered

    def rollout_weeks(self, team_path: str, week: IsoWeek) -> dict[str, int]:
        return {
            name: weeks_since_go_live(go_live, week)
            for name, go_live, paths in self.rollouts
            if any(within_team(team_path, path) for path in paths)
        }


def _organisation(session: Session) -> _Organisation:
    team_paths = {team_id: path for team_id, path in session.execute(select(Team.id, Team.path))}
    covered: dict[int, list[str]] = {}
    for rollout_id, team_id in session.execute(select(RolloutTeam.rollout_id, RolloutTeam.team_id)):
        covered.setdefault(rollout_id, []).append(team_paths[team_id])
    rollouts = tuple(
        (name, go_live, tuple(covered.get(rollout_id, ())))
        for rollout_id, name, go_live in session.execute(select(Rollout.id, Rollout.name, Rollout.go_live))
    )
    return _Organisation(team_paths, rollouts)


# ---------------------------------------------------------------- the weekly job


@dataclass
class ExplainerRun:
    """What one run of the explainer job did."""

    weeks: list[str] = field(default_factory=list)
    queued: int = 0
    sent: int = 0
    recovered: int = 0  # sent by a run that died before recording it; found in Slack, not resent
    failed: int = 0
    held_away: int = 0
    up_to_date: int = 0  # due, but nothing unread fits them (yet)
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the run did its work: nothing failed for good, and Slack did not stop it."""
        return self.failed == 0 and self.stopped is None

    def summary(self) -> str:
        weeks = ", ".join(self.weeks) or "none due"
        text = (
            f"explainers {weeks}: sent {self.sent}, failed {self.failed}, "
            f"held back while away {self.held_away}, nothing new for {self.up_to_date}"
        )
        text += f", found already sent {self.recovered}" if self.recovered else ""
        return text + (f"; stopped early: {self.stopped}" if self.stopped else "")


def _week_is_over(tz: str, week: IsoWeek, at: dt.datetime) -> bool:
    return IsoWeek.of(local_now(tz, at).date()) > week


def run_explainer_job(
    db: Database,
    messenger: Messenger,
    behaviour: Behaviour,
    library: Library,
    *,
    at: dt.datetime | None = None,
    force: bool = False,
    week: IsoWeek | None = None,
) -> ExplainerRun:
    """DM each person due now the next explainer that fits them, at most one per ISO week."""
    at = at or now()
    run = ExplainerRun()
    schedule = behaviour.schedule
    with db.session() as session:
        calendars = PeopleCalendars(behaviour)
        cohorts = calendars.cohorts(session)
        due = due_weeks(calendars, cohorts, schedule, schedule.explainer_day, schedule.explainer_time, at, force=force, week=week)
        organisation = _organisation(session) if due else None
        for due_week, due_cohorts in sorted(due.items()):
            # A week that is over where the person lives gets no explainer after the fact.
            open_cohorts = due_cohorts.only(lambda cohort: not _week_is_over(cohort.tz, due_week, at))
            if not open_cohorts or organisation is None:
                continue
            _queue(session, library, organisation, due_week, open_cohorts, at, run)
            run.weeks.append(str(due_week))
    _send_claimed(db, messenger, library, at, run, behaviour.language)
    log.info(
        "explainers.run weeks=%s sent=%s failed=%s held=%s up_to_date=%s",
        run.weeks, run.sent, run.failed, run.held_away, run.up_to_date,
    )
    return run


def _queue(
    session: Session,
    library: Library,
    organisation: _Organisation,
    week: IsoWeek,
    cohorts: DueCohorts,
    at: dt.datetime,
    run: ExplainerRun,
) -> None:
    had_one = exists().where(ExplainerDelivery.person_id == Person.id, ExplainerDelivery.week == str(week))
    eligible = and_(Person.active.is_(True), not_paused(at), ~had_one)
    people = cohorts.people(session, eligible, not_away(at), columns=(Person.id, Person.team_id, Person.level))
    run.held_away += len(cohorts.people(session, eligible, ~not_away(at)))
    seen = _seen(session, [p.id for p in people])
    rollout_weeks: dict[str, dict[str, int]] = {}
    rows = []
    for person_id, team_id, level in people:
        path = organisation.team_paths[team_id]
        if path not in rollout_weeks:
            rollout_weeks[path] = organisation.rollout_weeks(path, week)
        reader = Reader(path, level, rollout_weeks[path], seen.get(person_id, frozenset()))
        explainer = next_explainer(library, reader)
        if explainer is None:
            run.up_to_date += 1
            continue
        rows.append({"person_id": person_id, "explainer_key": explainer.key, "week": str(week), "status": "queued"})
    for start in range(0, len(rows), CHUNK):
        upsert(session, ExplainerDelivery.__table__, rows[start : start + CHUNK], ["person_id", "week"])
    run.queued += len(rows)


def _seen(session: Session, person_ids: list[int]) -> dict[int, frozenset[str]]:
    """Every explainer each person has been given (or is about to be), whatever became of it."""
    found: dict[int, set[str]] = {}
    for start in range(0, len(person_ids), CHUNK):
        chunk = person_ids[start : start + CHUNK]
        query = select(ExplainerDelivery.person_id, ExplainerDelivery.explainer_key).where(
            ExplainerDelivery.person_id.in_(chunk)
        )
        for person_id, key in session.execute(query):
            found.setdefault(person_id, set()).add(key)
    return {person_id: frozenset(keys) for person_id, keys in found.items()}


@dataclass(frozen=True)
class _ExplainerClaim(Claim):
    tz: str
    explainer_key: str
    week: IsoWeek
    lang: str = "en"  # the person's language


def _claim(db: Database, run_id: Callable[[], int], language: str) -> list[_ExplainerClaim]:
    """Take a batch of queued deliveries for this run (another clock takes other batches);
    `language` is the organisation's."""
    query = select(
        ExplainerDelivery.id,
        ExplainerDelivery.status,
        ExplainerDelivery.claimed_at,
        Person.slack_user_id,
        Person.tz,
        ExplainerDelivery.explainer_key,
        ExplainerDelivery.week,
        Person.language,
        Person.locale,
    ).join(Person, Person.id == ExplainerDelivery.person_id)
    _, rows = claim_rows(db, ExplainerDelivery, query, run_id)
    return [
        _ExplainerClaim(
            row.id,
            row.slack_user_id,
            taken_over(row),
            tz=row.tz,
            explainer_key=row.explainer_key,
            week=IsoWeek.parse(row.week),
            lang=person_language(row.language, row.locale, language),
        )
        for row in rows
    ]


def _drop(db: Database, delivery_id: int) -> None:
    """Forget a delivery that never went out: its explainer stays unseen, so a later week brings it."""
    with db.session() as session:
        session.execute(delete(ExplainerDelivery).where(ExplainerDelivery.id == delivery_id))


def _send_claimed(
    db: Database, messenger: Messenger, library: Library, at: dt.datetime, run: ExplainerRun, language: str
) -> None:
    def send(claim: _ExplainerClaim) -> MessageRef | None:
        explainer = library.for_reader(claim.explainer_key, claim.lang, language)
        # Slack was down until the person's week ended, or the explainer has left the library:
        # rather than two explainers in one week, or a missing one, it waits for a later week.
        if explainer is None or _week_is_over(claim.tz, claim.week, at):
            _drop(db, claim.delivery_id)
            return None
        return messenger.send_explainer(claim.user_id, explainer, delivery_id=claim.delivery_id, lang=claim.lang)

    with live_run(db, "explainers") as live:
        ledger: Ledger[_ExplainerClaim] = StatusLedger(db, ExplainerDelivery, at, lambda: live.id)
        claims = lambda: _claim(db, lambda: live.id, language)  # noqa: E731
        send_claimed(messenger, "explainer", claims, send, ledger, run, live)


# ---------------------------------------------------------------- feedback


def _require_sent(session: Session, person: Person, explainer_key: str) -> None:
    sent = session.scalar(
        select(ExplainerDelivery.id).where(
            ExplainerDelivery.person_id == person.id,
            ExplainerDelivery.explainer_key == explainer_key,
            ExplainerDelivery.status == "sent",
        )
    )
    if sent is None:
        raise UnknownExplainer(N_("That explainer was not sent to you, so I can't record anything about it."))


def _rating_context(explainer_key: str, who: str) -> str:
    return f"explainer_feedback:{explainer_key}:{who}"


def opened_rating(key: bytes, explainer_key: str, who: str, sealed: bytes) -> tuple[bool, bool]:
    """(helpful now, helpful at the first rating) from a rating's sealed value."""
    value = unseal(key, sealed, context=_rating_context(explainer_key, who))
    return bool(value["helpful"]), bool(value["first_helpful"])


def record_feedback(
    db: Database,
    key: bytes,
    user_id: str,
    explainer_key: str,
    helpful: bool,
    *,
    at: dt.datetime | None = None,
) -> bool:
    """Helpful or not, under the reader's pseudonym for the explainer; a second click changes it.

    The first rating and its week are kept as they were: only they are ever released, so a change
    updates what the reader sees, never a week's figure.
    """
    at = at or now()
    with db.session() as session:
        person = enrolled_person(session, user_id)
        _require_sent(session, person, explainer_key)
        require_key(session, key)
        who = explainer_pseudonym(key, explainer_key, user_id)
        first_week = str(IsoWeek.of(at.date()))
        first = seal(key, {"helpful": helpful, "first_helpful": helpful}, context=_rating_context(explainer_key, who))
        inserted = session.execute(
            conflict_insert(session, ExplainerFeedback)
            .values(id=random_id(), explainer_key=explainer_key, pseudonym=who, first_week=first_week, sealed=first)
            .on_conflict_do_nothing(index_elements=["explainer_key", "pseudonym"])
            .returning(ExplainerFeedback.id)
        ).scalar()
        if inserted is not None:
            snapshot_person(session, first_week, person)
            return helpful
        row = session.execute(
            select(ExplainerFeedback.id, ExplainerFeedback.sealed)
            .where(ExplainerFeedback.explainer_key == explainer_key, ExplainerFeedback.pseudonym == who)
            .with_for_update()
        ).one()
        _, first_helpful = opened_rating(key, explainer_key, who, row.sealed)
        sealed = seal(key, {"helpful": helpful, "first_helpful": first_helpful}, context=_rating_context(explainer_key, who))
        session.execute(update(ExplainerFeedback).where(ExplainerFeedback.id == row.id).values(sealed=sealed))
    return helpful


def feedback_given(db: Database, key: bytes, user_id: str, explainer_key: str) -> bool | None:
    """What this person said about the explainer so far (None: nothing yet)."""
    who = explainer_pseudonym(key, explainer_key, user_id)
    with db.session() as session:
        sealed = session.scalar(
            select(ExplainerFeedback.sealed).where(
                ExplainerFeedback.explainer_key == explainer_key, ExplainerFeedback.pseudonym == who
            )
        )
    return None if sealed is None else opened_rating(key, explainer_key, who, sealed)[0]


# ---------------------------------------------------------------- questions for the council


def check_question(text: str) -> str:
    """The question as it will be stored, or InvalidQuestion saying what to change."""
    text = text.strip()
    if not text:
        raise InvalidQuestion(N_("Write your question first: it is empty."))
    if len(text) > QUESTION_MAX_CHARS:
        raise InvalidQuestion(
            N_("Keep the question under {most} characters (it has {count})."), most=QUESTION_MAX_CHARS, count=len(text)
        )
    return text


def check_asker(db: Database, user_id: str, explainer_key: str) -> None:
    """Whether this person may ask about this explainer: enrolled, and it was sent to them."""
    with db.session() as session:
        _require_sent(session, enrolled_person(session, user_id), explainer_key)


def check_anonymity(db: Database, explainer_key: str, *, named: bool, min_group: int) -> None:
    """Whether a question about this explainer can go unnamed.

    The council sees which explainer a question is about, and only the people it was sent to can
    ask: with fewer of them than the minimum group size, "anonymous" would name one of a handful.
    """
    if named:
        return
    with db.session() as session:
        _require_anonymity_possible(session, explainer_key, min_group)


def _require_anonymity_possible(session: Session, explainer_key: str, min_group: int) -> None:
    """An unnamed question needs at least `min_group` still-enrolled recipients of its explainer,
    across at least two time zones: fewer, or one office alone, and the council could tell who asked.

    Only people still enrolled could be the asker: those who have left since do not hide anyone.
    """
    recipients = select(ExplainerDelivery.person_id).where(
        ExplainerDelivery.explainer_key == explainer_key, ExplainerDelivery.status == "sent"
    ).distinct().scalar_subquery()
    people, zones = session.execute(
        select(func.count(Person.id), func.count(func.distinct(Person.tz))).where(Person.id.in_(recipients), Person.active.is_(True))
    ).one()
    if not large_enough(people or 0, min_group):
        raise TraceableQuestion(
            N_(
                "Fewer than {min_group} people have received this explainer, so the council could tell who "
                "asked. Tick “Include my name” to send the question, or ask your manager instead."
            ),
            min_group=min_group,
        )
    if (zones or 0) < 2:
        raise TraceableQuestion(
            N_(
                "Everyone who has received this explainer works in one time zone, so the council could narrow "
                "down who asked. Tick “Include my name” to send the question, or ask your manager instead."
            )
        )


def ask_question(
    db: Database,
    messenger: Messenger,
    council_channel: str | None,
    user_id: str,
    explainer_key: str,
    text: str,
    *,
    named: bool,
    min_group: int,
    title: str | None = None,
    at: dt.datetime | None = None,
    lang: str = "en",
) -> QuestionReceipt:
    """Store the question; post it to the council now if named, else in the next daily batch.

    It is stored first, so a question Slack refuses to post is not lost: the next batch retries
    it. Only a named question records who asked, and a question can go unnamed only about an
    explainer still held by at least `min_group` enrolled people (checked again at posting).
    Posting anonymous questions together once a day is what keeps their timing from pointing at
    whoever had just received the explainer; the question keeps its week, not its time.
    """
    at = at or now()
    text = check_question(text)
    if not council_channel:
        raise NoCouncilChannel(NO_COUNCIL_CHANNEL)
    week = str(IsoWeek.of(at.date()))
    with db.session() as session:
        person = enrolled_person(session, user_id)
        _require_sent(session, person, explainer_key)
        if not named:
            _require_anonymity_possible(session, explainer_key, min_group)
        row = ExplainerQuestion(explainer_key=explainer_key, text=text, person_id=person.id if named else None, week=week)
        session.add(row)
        session.flush()
        question_id = row.id
    question = CouncilQuestion(
        question_id=question_id,
        explainer_key=explainer_key,
        explainer_title=title or explainer_key,
        text=text,
        week=week,
        asker=user_id if named else None,
    )
    if not named:
        return QuestionReceipt(question, posted=False, queued=True)
    problem = _post_question(db, messenger, council_channel, question, lang)
    return QuestionReceipt(question, posted=problem is None)


def _post_question(db: Database, messenger: Messenger, channel: str, question: CouncilQuestion, lang: str) -> str | None:
    """Post one question, in `lang` (the council's); None when it went, else why not."""
    try:
        ref = messenger.post_question(channel, question, lang=lang)
    except DeliveryFailed as failure:
        log.warning("explainers.question_not_posted question=%s reason=%s", question.question_id, failure.reason)
        return failure.explain() if isinstance(failure, ChannelUnavailable) else failure.reason
    with db.session() as session:
        session.execute(
            update(ExplainerQuestion)
            .where(ExplainerQuestion.id == question.question_id)
            .values(channel_id=ref.channel, message_ts=ref.ts)
        )
    return None


@dataclass
class QuestionBatchRun:
    day: dt.date | None = None
    posted: int = 0
    held: int = 0  # anonymous, about an explainer fewer than the minimum still hold
    failed: int = 0
    reason: str = ""  # why there was no batch, or why questions failed

    @property
    def ok(self) -> bool:
        """Whether every question that was ready went to the council."""
        return self.failed == 0

    def summary(self) -> str:
        if self.day is None:
            return f"questions: no batch ({self.reason})"
        text = f"questions {self.day}: posted {self.posted}, held {self.held}, failed {self.failed}"
        return text + (f": {self.reason}" if self.failed else "")


def run_question_batch(
    db: Database,
    messenger: Messenger,
    council_channel: str | None,
    library: Library,
    behaviour: Behaviour,
    *,
    at: dt.datetime | None = None,
    force: bool = False,
) -> QuestionBatchRun:
    """Post the questions waiting for the council, once a day at the digest's time of day.

    The day is claimed first, so a second run (or clock) that day posts nothing; a question that
    could not go (Slack refused, or its explainer is held by too few people now) waits for the
    next day's batch.
    """
    at = at or now()
    schedule = behaviour.schedule
    local = local_now(schedule.digest_timezone, at)
    if not force and local < local_instant(schedule.digest_timezone, local.date(), schedule.digest_time):
        return QuestionBatchRun(reason="not due yet today")
    if not council_channel:
        return QuestionBatchRun(reason="PULSE_COUNCIL_CHANNEL is not set")
    with db.session() as session:
        claimed = session.execute(
            conflict_insert(session, QuestionBatch)
            .values(day=local.date())
            .on_conflict_do_nothing(index_elements=["day"])
            .returning(QuestionBatch.day)
        ).scalar()
        if claimed is None:
            return QuestionBatchRun(reason="already posted today")
        waiting = session.scalars(
            select(ExplainerQuestion).where(ExplainerQuestion.message_ts.is_(None)).order_by(ExplainerQuestion.explainer_key, ExplainerQuestion.id)
        ).all()
        named = {q.person_id for q in waiting if q.person_id is not None}
        askers: dict[int | None, str] = {}
        if named:
            askers = {pid: user for pid, user in session.execute(select(Person.id, Person.slack_user_id).where(Person.id.in_(named)))}
        ready: list[CouncilQuestion] = []
        run = QuestionBatchRun(day=local.date())
        for question in waiting:
            if question.person_id is None:
                try:
                    _require_anonymity_possible(session, question.explainer_key, behaviour.min_group_size)
                except TraceableQuestion:
                    run.held += 1
                    continue
            explainer = library.for_reader(question.explainer_key, behaviour.language)
            ready.append(CouncilQuestion(
                question_id=question.id,
                explainer_key=question.explainer_key,
                explainer_title=explainer.title if explainer is not None else question.explainer_key,
                text=question.text,
                week=question.week,
                asker=askers.get(question.person_id),
            ))
    for question in ready:
        problem = _post_question(db, messenger, council_channel, question, behaviour.language)
        if problem is None:
            run.posted += 1
        else:
            run.failed += 1
            run.reason = problem
    log.info("questions.batch day=%s posted=%s held=%s failed=%s", run.day, run.posted, run.held, run.failed)
    return run
