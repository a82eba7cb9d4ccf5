"""The tables. Integrity lives in the database: unique keys, foreign keys and checks.

Confidentiality shapes the schema: `deliveries` say who was sent a pulse (by person), while
`responses` and `answers` say what was answered under a keyed pseudonym only. Nothing stores the
pseudonym next to a Slack user id, so no join in a dump links a person to an answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base
from bot.weeks import UTC

PAUSED_UNTIL_RESUMED = dt.date(9999, 12, 31)
COMMENT_MAX_CHARS = 1000


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in Python, on both SQLite (which has no time zones) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)

    parent: Mapped[Team | None] = relationship(remote_side=[id])

    __table_args__ = (CheckConstraint("length(path) > 0", name="path_not_empty"),)


ROSTER_SOURCES: Final = ("csv", "usergroups")


class Person(Base):
    """Someone enrolled in the pulse. `team_id` is their membership; `level` a free label.

    `roster_source` says what placed them, the CSV import or the Slack user-group sync: each
    deactivates only the people it placed, so an organisation can use both.
    `workdays` (as `bot.calendars.workdays_text` writes it, e.g. `sun-thu`) and `country` (whose
    public holidays are their days off) are the person's own, from the roster; empty, their team's
    or the default calendar applies (bot/calendars.py). `locale` and `language` say which language
    they read (bot/i18n.py); no answer ever carries one.
    """

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_user_id: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="RESTRICT"), index=True)
    level: Mapped[str | None] = mapped_column(String(40))
    is_council: Mapped[bool] = mapped_column(Boolean, default=False)
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    away_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paused_until: Mapped[dt.date | None] = mapped_column(Date)
    roster_source: Mapped[str] = mapped_column(String(12), default="csv", server_default="csv")
    workdays: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(2))
    # The Slack locale (`fr-FR`, from the roster sync) and the language chosen with `/pulse
    # language`; the person reads the chosen one, else their locale's, else the organisation's.
    locale: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))

    team: Mapped[Team] = relationship()
    managed_teams: Mapped[list[Team]] = relationship(secondary="managers", viewonly=True)

    __table_args__ = (
        Index("ix_people_active_tz", "active", "tz"),
        CheckConstraint("roster_source IN ('csv', 'usergroups')", name="roster_source_known"),
        CheckConstraint("country IS NULL OR length(country) = 2", name="country_is_alpha2"),
    )


class Manager(Base):
    __tablename__ = "managers"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)


class Rollout(Base):
    """A tool or workflow going live for some teams on a date."""

    __tablename__ = "rollouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    go_live: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    teams: Mapped[list[Team]] = relationship(secondary="rollout_teams")


class RolloutTeam(Base):
    __tablename__ = "rollout_teams"

    rollout_id: Mapped[int] = mapped_column(ForeignKey("rollouts.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)


class QuestionSet(Base):
    """The exact questions a round asked, frozen, so old answers keep their meaning."""

    __tablename__ = "question_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PulseRound(Base):
    """One per ISO week."""

    __tablename__ = "pulse_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), unique=True)
    question_set_id: Mapped[int] = mapped_column(ForeignKey("question_sets.id", ondelete="RESTRICT"))
    closes_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    question_set: Mapped[QuestionSet] = relationship()

    __table_args__ = (CheckConstraint("week LIKE '____-W__'", name="week_is_iso"),)


DELIVERY_STATUSES = ("queued", "sending", "sent", "failed")


class JobRun(Base):
    """A run of a fan-out job (pulse, reminders, explainers) that holds claims on deliveries.

    A live run refreshes `heartbeat_at` every few seconds; a claim whose run has stopped doing so
    belongs to a run that died, and the next run takes it over (looking in the DM first).
    """

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Delivery(Base):
    """That a person was sent this week's pulse, and where the message is. Holds no answer."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # While 'sending': when it was first claimed (a DM may have gone out since then) and by which run.
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    run_id: Mapped[int | None] = mapped_column(ForeignKey("job_runs.id", ondelete="SET NULL"), index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The reminder is claimed ('sending', with reminded_at as the first claim time and the run in
    # reminder_run_id), then 'sent' or 'failed'; a claim left 'sending' by a run that died is
    # checked against Slack, then resent.
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reminder_status: Mapped[str | None] = mapped_column(String(10))
    reminder_run_id: Mapped[int | None] = mapped_column(ForeignKey("job_runs.id", ondelete="SET NULL"), index=True)
    error: Mapped[str | None] = mapped_column(String(100))

    round: Mapped[PulseRound] = relationship()
    person: Mapped[Person] = relationship()

    __table_args__ = (
        UniqueConstraint("round_id", "person_id"),
        CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed')",
            name="status_known",
        ),
        CheckConstraint("status != 'sent' OR message_ts IS NOT NULL", name="sent_has_message"),
        CheckConstraint(
            "reminder_status IS NULL OR reminder_status IN ('sending', 'sent', 'failed')",
            name="reminder_status_known",
        ),
        Index("ix_deliveries_round_status", "round_id", "status"),
    )


# Rows that hold what someone answered or logged: no rowid on SQLite (the random key orders them),
# so neither a row's place in the file nor its rowid follows when it was written.
NO_ROWID: Final[dict[str, Any]] = {"sqlite_with_rowid": False}


class Response(Base):
    """One person's answers to one round: a random id, the week's pseudonym, and a sealed value.

    The sealed value (bot.privacy.seal) holds the answers, the comment and whether the week was
    skipped. No team, level or time: the week roster places the person, and only a release, which
    recomputes each pseudonym from the roster, puts the two together.
    """

    __tablename__ = "responses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"))
    pseudonym: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        UniqueConstraint("round_id", "pseudonym"),
        CheckConstraint("length(pseudonym) = 64", name="pseudonym_is_hmac"),
        NO_ROWID,
    )


# ---------------------------------------------------------------- hidden work

WORK_CATEGORIES = ("validation", "prompting", "cleanup", "exceptions", "workaround", "other")
REPORT_MAX_MINUTES = 12 * 60
NOTE_MAX_CHARS = 500


class HiddenWorkReport(Base):
    """Time AI quietly added, anonymous: the week, the reporter's pseudonym for that week, and the
    report (category, minutes, tool, note) sealed. Counted only in released aggregates."""

    __tablename__ = "hidden_work_reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    week: Mapped[str] = mapped_column(String(8))
    pseudonym: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        CheckConstraint("week LIKE '____-W__'", name="week_is_iso"),
        CheckConstraint("length(pseudonym) = 64", name="pseudonym_is_hmac"),
        Index("ix_hidden_work_reports_week_pseudonym", "week", "pseudonym"),
        NO_ROWID,
    )


class CreditReport(Base):
    """A report its author chose to show their manager: that is how the effort gets credit.

    Kept by person, and only here: no anonymous twin carries the same content under the person's
    pseudonym, which would name every other answer filed under it. Counted in released aggregates
    like any report, through the week roster.
    """

    __tablename__ = "credit_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(20))
    minutes: Mapped[int] = mapped_column(Integer)
    tool: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(f"minutes BETWEEN 1 AND {REPORT_MAX_MINUTES}", name="minutes_in_range"),
        CheckConstraint(
            "category IN (" + ", ".join(f"'{c}'" for c in WORK_CATEGORIES) + ")", name="category_known"
        ),
        CheckConstraint(f"note IS NULL OR length(note) <= {NOTE_MAX_CHARS}", name="note_length"),
        CheckConstraint("week LIKE '____-W__'", name="week_is_iso"),
        Index("ix_credit_reports_person_week", "person_id", "week"),
        Index("ix_credit_reports_week", "week"),
    )


# ---------------------------------------------------------------- explainers


class ExplainerDelivery(Base):
    """That a person was sent an explainer (reach), one a week at most. Holds no feedback."""

    __tablename__ = "explainer_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    explainer_key: Mapped[str] = mapped_column(String(60))
    week: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    run_id: Mapped[int | None] = mapped_column(ForeignKey("job_runs.id", ondelete="SET NULL"), index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(100))

    person: Mapped[Person] = relationship()

    __table_args__ = (
        UniqueConstraint("person_id", "explainer_key"),
        UniqueConstraint("person_id", "week"),
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="status_known"),
        CheckConstraint("status != 'sent' OR message_ts IS NOT NULL", name="sent_has_message"),
        CheckConstraint("week LIKE '____-W__'", name="week_is_iso"),
        Index("ix_explainer_deliveries_week_status", "week", "status"),
        # The digest's reach is a running count per explainer: it can be counted from this index alone.
        Index("ix_explainer_deliveries_status_key_week", "status", "explainer_key", "week"),
    )


class ExplainerFeedback(Base):
    """Helpful or not, per explainer, under the reader's pseudonym for that explainer; changeable.

    The first rating belongs to the week it was given in, and only it is ever released: a later
    change is kept for the reader (and `/pulse mydata`), so no week's figure moves afterwards.
    Both are sealed; only the week of the first rating is in the clear.
    """

    __tablename__ = "explainer_feedback"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    explainer_key: Mapped[str] = mapped_column(String(60))
    pseudonym: Mapped[str] = mapped_column(String(64))
    first_week: Mapped[str] = mapped_column(String(8))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        UniqueConstraint("explainer_key", "pseudonym"),
        Index("ix_explainer_feedback_first_week", "first_week", "explainer_key"),
        CheckConstraint("length(pseudonym) = 64", name="pseudonym_is_hmac"),
        CheckConstraint("first_week LIKE '____-W__'", name="first_week_is_iso"),
        NO_ROWID,
    )


QUESTION_MAX_CHARS = 1000


class ExplainerQuestion(Base):
    """A question an explainer raised, for the council: anonymous unless the asker chose.

    It keeps its ISO week, not its time. An anonymous one waits for the daily batch
    (`message_ts` empty until it is posted), so neither the database nor the channel says when
    it was asked; a named one is posted at once.
    """

    __tablename__ = "explainer_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    explainer_key: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(8))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        CheckConstraint(f"length(text) BETWEEN 1 AND {QUESTION_MAX_CHARS}", name="text_length"),
        CheckConstraint("week LIKE '____-W__'", name="week_is_iso"),
        Index("ix_explainer_questions_week", "week"),
    )


class KeyFingerprint(Base):
    """A fingerprint of the PULSE_PSEUDONYM_KEY answers are stored under (bot.privacy.key_fingerprint)."""

    __tablename__ = "key_fingerprints"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)


class QuestionBatch(Base):
    """That the day's batch of anonymous questions was posted: once a day, however often it runs."""

    __tablename__ = "question_batches"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)


ROSTER_SYNC_STATUSES: Final = ("running", "done", "refused", "failed")


class RosterSyncRun(Base):
    """The day's roster sync on the clock: claimed first, so it runs once a day however often it ticks.

    `refused` (the user-group mapping does not match Slack) waits for the next day; `failed`
    (Slack could not be read) is tried again an hour later.
    """

    __tablename__ = "roster_syncs"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (CheckConstraint("status IN ('running', 'done', 'refused', 'failed')", name="status_known"),)


# ---------------------------------------------------------------- council digest

DIGEST_STATUSES = ("posting", "posted", "failed")


class DigestPost(Base):
    """The digest of one ISO week: claimed before posting, so it is posted once per week."""

    __tablename__ = "digest_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="posting")
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        CheckConstraint("status IN ('posting', 'posted', 'failed')", name="status_known"),
        CheckConstraint("status != 'posted' OR message_ts IS NOT NULL", name="posted_has_message"),
        CheckConstraint("week LIKE '____-W__'", name="week_is_iso"),
    )


class RolloutDecision(Base):
    """A council member's decision on a rollout, from the digest's buttons. Accountable, not anonymous."""

    __tablename__ = "rollout_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    rollout_id: Mapped[int] = mapped_column(ForeignKey("rollouts.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(8))
    decision: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("decision IN ('continue', 'pause', 'review')", name="decision_known"),
        CheckConstraint("week LIKE '____-W__'", name="week_is_iso"),
        Index("ix_rollout_decisions_rollout_decided", "rollout_id", "decided_at"),
    )


# ---------------------------------------------------------------- the weekly release


class WeekRoster(Base):
    """Who was enrolled in a week, and in which team and level: the week's snapshot.

    Taken when the week's round opens (and for anyone who joins during the week, when they first
    appear in it). Every figure of the week places a person by this row, whatever moves later,
    so a mid-week move never counts anybody twice. Roster facts only: it holds no answer.
    """

    __tablename__ = "week_roster"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    # The path as text: the snapshot stays put when the team is renamed or deleted.
    team_path: Mapped[str] = mapped_column(String(200))
    level: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (CheckConstraint("week LIKE '____-W__'", name="week_is_iso"),)


class Release(Base):
    """One week's figures, decided once when the week's inputs are final, and never changed.

    Every output reads its figures from here (`released_figures`); none of them counts answers.
    `min_group_size` and `rule_version` say under which rule the week was decided; `basis` is
    `snapshot` for a week released from its week roster, `legacy` for a week released by the
    upgrade from the figures older versions had already shown.
    """

    __tablename__ = "releases"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    min_group_size: Mapped[int] = mapped_column(Integer)
    rule_version: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(10))
    released_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("week LIKE '____-W__'", name="week_is_iso"),
        CheckConstraint("basis IN ('snapshot', 'legacy')", name="basis_known"),
    )


class ReleasedFigure(Base):
    """One released figure: a sum over a group's contributors to a measure, and its indicator counts.

    `scope` is `org`, `team` (the team's whole subtree, `label` its path at release) or `level`
    (organisation-wide). `people` is the number of distinct contributors (for participation:
    the people sent the pulse); `total` is the sum of the measure over them (for participation:
    how many answered); `counts` holds indicator counts over the same people (favourable, a
    rate's mark, each option). Append-only: a release is never recounted.
    """

    __tablename__ = "released_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(ForeignKey("releases.week", ondelete="CASCADE"))
    measure: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(5))
    label: Mapped[str] = mapped_column(String(200))
    people: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("week", "measure", "scope", "label"),
        CheckConstraint("scope IN ('org', 'team', 'level')", name="scope_known"),
        CheckConstraint("people > 0", name="has_people"),
    )


class ReleasedComment(Base):
    """One pulse comment released with its week, for the council: its text sealed, nothing else.

    Written once, by the week's release, only when the week's respondents number at least its
    `min_group_size`, in random order under a random id: nothing in the row (id, place, row
    version) leads back to the response it came from, or to when it was written. Never changed
    afterwards, like the rest of the release; `/pulse forget` cannot find it, since nothing
    links it to anybody.
    """

    __tablename__ = "released_comments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    week: Mapped[str] = mapped_column(ForeignKey("releases.week", ondelete="CASCADE"))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_released_comments_week", "week"), NO_ROWID)


class CommentThread(Base):
    """How far a week's released comments have been posted in its digest's thread.

    Claimed before posting, like the digest; `parts_posted` grows message by message, so a run
    that stopped half-way finishes the thread and never posts a message twice.
    """

    __tablename__ = "comment_threads"

    week: Mapped[str] = mapped_column(ForeignKey("releases.week", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="posting")
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    parts_posted: Mapped[int] = mapped_column(Integer, default=0)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        CheckConstraint("status IN ('posting', 'posted', 'failed')", name="status_known"),
        CheckConstraint("parts_posted >= 0", name="parts_not_negative"),
    )


class ProgressDay(Base):
    """That an open week's progress was counted on this day: it is counted at most once a day."""

    __tablename__ = "progress_days"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)

    __table_args__ = (CheckConstraint("week LIKE '____-W__'", name="week_is_iso"),)


class ProgressFigure(Base):
    """An open week's progress for one group of at least `min_group_size` recipients, that day.

    `label` is empty for the organisation, else a team path (its subtree)."""

    __tablename__ = "progress_figures"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    label: Mapped[str] = mapped_column(String(200), primary_key=True)
    sent: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        ForeignKeyConstraint(["week", "day"], ["progress_days.week", "progress_days.day"], ondelete="CASCADE"),
    )


# OAuth mode's tables are slack_sdk's own; registered on the same metadata so migrations and the
# schema comparison see every table.
from bot.slack.installation_tables import BOTS, INSTALLATIONS, OAUTH_STATES  # noqa: E402

SLACK_TABLES = (INSTALLATIONS, BOTS, OAUTH_STATES)
