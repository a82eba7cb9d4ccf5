"""Answers, reports and ratings are sealed under per-week pseudonyms, with random ids.

Every response, anonymous hidden-work report and explainer rating is rewritten: a random 128-bit
id instead of a counter (which followed the order people answered in), the person's pseudonym for
that week (for that explainer, for a rating) instead of one pseudonym for ever, no team, level
or time (responses still had them), and what they answered sealed (AES-GCM under a key derived from PULSE_PSEUDONYM_KEY) instead of in the clear.
Rows of people no longer on the roster get random pseudonyms: nobody can find them again, and
they still count in the weeks already released. Reports shared for credit move to
`credit_reports`, kept by name only. On SQLite the new tables have no rowid.

Needs PULSE_PSEUDONYM_KEY when there is anything to rewrite. Older backups still hold the
previous form; the downgrade gives back the old tables, empty.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from bot.privacy import explainer_pseudonym, key_fingerprint, pseudonym, random_id, random_pseudonym, seal, week_pseudonym

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def _key(bind: sa.Connection) -> bytes | None:
    """The secret, when any row needs it; a clear stop when it is needed and missing."""
    rows = sum(bind.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0
               for table in ("responses", "hidden_work_reports", "explainer_feedback"))
    if not rows:
        return None
    given = context.config.attributes.get("pseudonym_key")
    if given is None:
        from bot.settings import load_settings

        given = load_settings().pulse_pseudonym_key
    if not given:
        raise RuntimeError("migration 0009 seals stored answers: set PULSE_PSEUDONYM_KEY (the one they were stored with)")
    return given.encode("utf-8") if isinstance(given, str) else bytes(given)


def _people(bind: sa.Connection, key: bytes) -> dict[str, str]:
    """Old pseudonym (one per person) → Slack user id, for everyone on the roster."""
    return {pseudonym(key, user_id): user_id for user_id in bind.scalars(sa.text("SELECT slack_user_id FROM people"))}


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _replace(
    bind: sa.Connection,
    name: str,
    columns: Callable[[], list[sa.Column[Any]]],
    constraints: Callable[[str], list[Any]],
    indexes: list[tuple[str, list[str]]],
    fill: Callable[[sa.Table], None],
    drop_first: Sequence[str] = (),
) -> None:
    """Build `name` anew beside the old table, fill it, then take the old one's place.

    PostgreSQL names a primary key's or unique constraint's index schema-wide, so the new table's
    carry a temporary name until the old table is gone; SQLite names them per table.
    """
    postgres = bind.dialect.name == "postgresql"
    temporary = f"{name}_0009"
    suffix = temporary if postgres else name
    table = op.create_table(temporary, *columns(), *constraints(suffix), sqlite_with_rowid=False)
    assert table is not None
    fill(table)
    for dependent in drop_first:
        op.drop_table(dependent)
    op.drop_table(name)
    op.rename_table(temporary, name)
    if postgres:
        for kind in ("pk", "uq"):
            for constraint in constraints(suffix):
                if constraint.name and constraint.name.startswith(f"{kind}_{temporary}"):
                    final = constraint.name.replace(temporary, name, 1)
                    op.execute(f'ALTER TABLE {name} RENAME CONSTRAINT "{constraint.name}" TO "{final}"')
    for index, on in indexes:
        op.create_index(index, name, on, unique=False)


def _responses(bind: sa.Connection, key: bytes | None, people: dict[str, str]) -> None:
    def columns() -> list[sa.Column[Any]]:
        return [
            sa.Column('id', sa.String(length=32), nullable=False),
            sa.Column('round_id', sa.Integer(), nullable=False),
            sa.Column('pseudonym', sa.String(length=64), nullable=False),
            sa.Column('sealed', sa.LargeBinary(), nullable=False),
        ]

    def constraints(suffix: str) -> list[Any]:
        return [
            sa.CheckConstraint('length(pseudonym) = 64', name='ck_responses_pseudonym_is_hmac'),
            sa.ForeignKeyConstraint(['round_id'], ['pulse_rounds.id'], name='fk_responses_round_id_pulse_rounds', ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('id', name=f'pk_{suffix}'),
            sa.UniqueConstraint('round_id', 'pseudonym', name=f'uq_{suffix}_round_id_pseudonym'),
        ]

    def fill(table: sa.Table) -> None:
        for round_id, week in bind.execute(sa.text("SELECT id, week FROM pulse_rounds")).all():
            responses = bind.execute(
                sa.text("SELECT id, pseudonym, skipped FROM responses WHERE round_id = :r"), {"r": round_id}
            ).all()
            if not responses:
                continue
            assert key is not None
            given: dict[int, dict[str, Any]] = {rid: {"answers": {}, "comment": None, "skipped": bool(skipped)} for rid, _, skipped in responses}
            answers = bind.execute(
                sa.text("SELECT a.response_id, a.question_key, a.value, a.text FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.round_id = :r"),
                {"r": round_id},
            )
            for response_id, question_key, value, text in answers:
                if text is not None:
                    given[response_id]["comment"] = text
                elif value is not None:
                    given[response_id]["answers"][question_key] = float(value)
            rows = []
            for rid, old, _ in responses:
                user_id = people.get(old)
                who = week_pseudonym(key, week, user_id) if user_id else random_pseudonym()
                rows.append({"id": random_id(), "round_id": round_id, "pseudonym": who,
                             "sealed": seal(key, given[rid], context=f"responses:{week}:{who}")})
            for batch in _batches(rows):
                bind.execute(table.insert(), batch)

    _replace(bind, 'responses', columns, constraints, [], fill, drop_first=('answers',))


def _hidden_work(bind: sa.Connection, key: bytes | None, people: dict[str, str]) -> None:
    op.create_table('credit_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('tool', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("category IN ('validation', 'prompting', 'cleanup', 'exceptions', 'workaround', 'other')", name=op.f('ck_credit_reports_category_known')),
    sa.CheckConstraint("week LIKE '____-W__'", name=op.f('ck_credit_reports_week_is_iso')),
    sa.CheckConstraint('minutes BETWEEN 1 AND 720', name=op.f('ck_credit_reports_minutes_in_range')),
    sa.CheckConstraint('note IS NULL OR length(note) <= 500', name=op.f('ck_credit_reports_note_length')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_credit_reports_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_reports'))
    )
    op.create_index('ix_credit_reports_person_week', 'credit_reports', ['person_id', 'week'], unique=False)
    op.create_index('ix_credit_reports_week', 'credit_reports', ['week'], unique=False)
    shared = bind.execute(sa.text(
        "SELECT person_id, week, category, minutes, tool, note FROM hidden_work_reports WHERE person_id IS NOT NULL ORDER BY id"
    )).mappings().all()
    for batch in _batches([dict(row) for row in shared]):
        bind.execute(sa.text(
            "INSERT INTO credit_reports (person_id, week, category, minutes, tool, note) "
            "VALUES (:person_id, :week, :category, :minutes, :tool, :note)"
        ), batch)

    def columns() -> list[sa.Column[Any]]:
        return [
            sa.Column('id', sa.String(length=32), nullable=False),
            sa.Column('week', sa.String(length=8), nullable=False),
            sa.Column('pseudonym', sa.String(length=64), nullable=False),
            sa.Column('sealed', sa.LargeBinary(), nullable=False),
        ]

    def constraints(suffix: str) -> list[Any]:
        return [
            sa.CheckConstraint("week LIKE '____-W__'", name='ck_hidden_work_reports_week_is_iso'),
            sa.CheckConstraint('length(pseudonym) = 64', name='ck_hidden_work_reports_pseudonym_is_hmac'),
            sa.PrimaryKeyConstraint('id', name=f'pk_{suffix}'),
        ]

    def fill(table: sa.Table) -> None:
        for week in bind.scalars(sa.text("SELECT DISTINCT week FROM hidden_work_reports WHERE person_id IS NULL")).all():
            assert key is not None
            rows = []
            for old, category, minutes, tool, note in bind.execute(sa.text(
                "SELECT pseudonym, category, minutes, tool, note FROM hidden_work_reports WHERE week = :w AND person_id IS NULL"
            ), {"w": week}):
                user_id = people.get(old)
                who = week_pseudonym(key, week, user_id) if user_id else random_pseudonym()
                payload = {"category": category, "minutes": int(minutes), "tool": tool, "note": note}
                rows.append({"id": random_id(), "week": week, "pseudonym": who,
                             "sealed": seal(key, payload, context=f"hidden_work_reports:{week}:{who}")})
            for batch in _batches(rows):
                bind.execute(table.insert(), batch)

    _replace(bind, 'hidden_work_reports', columns, constraints, [('ix_hidden_work_reports_week_pseudonym', ['week', 'pseudonym'])], fill)


def _ratings(bind: sa.Connection, key: bytes | None, people: dict[str, str]) -> None:
    def columns() -> list[sa.Column[Any]]:
        return [
            sa.Column('id', sa.String(length=32), nullable=False),
            sa.Column('explainer_key', sa.String(length=60), nullable=False),
            sa.Column('pseudonym', sa.String(length=64), nullable=False),
            sa.Column('first_week', sa.String(length=8), nullable=False),
            sa.Column('sealed', sa.LargeBinary(), nullable=False),
        ]

    def constraints(suffix: str) -> list[Any]:
        return [
            sa.CheckConstraint('length(pseudonym) = 64', name='ck_explainer_feedback_pseudonym_is_hmac'),
            sa.CheckConstraint("first_week LIKE '____-W__'", name='ck_explainer_feedback_first_week_is_iso'),
            sa.PrimaryKeyConstraint('id', name=f'pk_{suffix}'),
            sa.UniqueConstraint('explainer_key', 'pseudonym', name=f'uq_{suffix}_explainer_key_pseudonym'),
        ]

    def fill(table: sa.Table) -> None:
        rows = []
        for explainer, old, week, helpful, first in bind.execute(sa.text(
            "SELECT explainer_key, pseudonym, first_week, helpful, first_helpful FROM explainer_feedback"
        )):
            assert key is not None
            user_id = people.get(old)
            who = explainer_pseudonym(key, explainer, user_id) if user_id else random_pseudonym()
            payload = {"helpful": bool(helpful), "first_helpful": bool(first)}
            rows.append({"id": random_id(), "explainer_key": explainer, "pseudonym": who, "first_week": week,
                         "sealed": seal(key, payload, context=f"explainer_feedback:{explainer}:{who}")})
        for batch in _batches(rows):
            bind.execute(table.insert(), batch)

    # The index keeps its name from 0008 and must go with the old table before it is made again.
    op.drop_index('ix_explainer_feedback_first_week', table_name='explainer_feedback')
    _replace(bind, 'explainer_feedback', columns, constraints, [('ix_explainer_feedback_first_week', ['first_week', 'explainer_key'])], fill)


def upgrade() -> None:
    bind = op.get_bind()
    key = _key(bind)
    # The key's fingerprint (bot.keys): a later, different key stops at once instead of finding
    # nobody's answers.
    op.create_table('key_fingerprints',
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('fingerprint', name=op.f('pk_key_fingerprints'))
    )
    if key is not None:
        bind.execute(sa.text("INSERT INTO key_fingerprints (fingerprint) VALUES (:f)"), {"f": key_fingerprint(key)})
    people = _people(bind, key) if key is not None else {}
    _responses(bind, key, people)
    op.drop_index('ix_hidden_work_reports_week', table_name='hidden_work_reports')
    op.drop_index('ix_hidden_work_reports_pseudonym_week', table_name='hidden_work_reports')
    _hidden_work(bind, key, people)
    _ratings(bind, key, people)


def downgrade() -> None:
    """The tables of 0008 again, empty: sealed rows cannot be turned back without their key."""
    op.drop_table('key_fingerprints')
    op.drop_table('explainer_feedback')
    op.create_table('explainer_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('explainer_key', sa.String(length=60), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('helpful', sa.Boolean(), nullable=False),
    sa.Column('first_week', sa.String(length=8), nullable=False),
    sa.Column('first_helpful', sa.Boolean(), nullable=False),
    sa.CheckConstraint('length(pseudonym) = 64', name=op.f('ck_explainer_feedback_pseudonym_is_hmac')),
    sa.CheckConstraint("first_week LIKE '____-W__'", name=op.f('ck_explainer_feedback_first_week_is_iso')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_explainer_feedback')),
    sa.UniqueConstraint('explainer_key', 'pseudonym', name=op.f('uq_explainer_feedback_explainer_key_pseudonym'))
    )
    op.create_index('ix_explainer_feedback_first_week', 'explainer_feedback', ['first_week', 'explainer_key'], unique=False)
    op.drop_table('hidden_work_reports')
    op.create_table('hidden_work_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('tool', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('shared_with_manager', sa.Boolean(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("category IN ('validation', 'prompting', 'cleanup', 'exceptions', 'workaround', 'other')", name=op.f('ck_hidden_work_reports_category_known')),
    sa.CheckConstraint("week LIKE '____-W__'", name=op.f('ck_hidden_work_reports_week_is_iso')),
    sa.CheckConstraint('length(pseudonym) = 64', name=op.f('ck_hidden_work_reports_pseudonym_is_hmac')),
    sa.CheckConstraint('minutes BETWEEN 1 AND 720', name=op.f('ck_hidden_work_reports_minutes_in_range')),
    sa.CheckConstraint('note IS NULL OR length(note) <= 500', name=op.f('ck_hidden_work_reports_note_length')),
    sa.CheckConstraint('shared_with_manager = (person_id IS NOT NULL)', name=op.f('ck_hidden_work_reports_named_only_when_shared')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_hidden_work_reports_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hidden_work_reports'))
    )
    op.create_index('ix_hidden_work_reports_pseudonym_week', 'hidden_work_reports', ['pseudonym', 'week'], unique=False)
    op.create_index('ix_hidden_work_reports_week', 'hidden_work_reports', ['week'], unique=False)
    op.drop_index('ix_credit_reports_week', table_name='credit_reports')
    op.drop_index('ix_credit_reports_person_week', table_name='credit_reports')
    op.drop_table('credit_reports')
    op.drop_table('responses')
    op.create_table('responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=40), nullable=True),
    sa.Column('skipped', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(pseudonym) = 64', name=op.f('ck_responses_pseudonym_is_hmac')),
    sa.ForeignKeyConstraint(['round_id'], ['pulse_rounds.id'], name=op.f('fk_responses_round_id_pulse_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_responses_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responses')),
    sa.UniqueConstraint('round_id', 'pseudonym', name=op.f('uq_responses_round_id_pseudonym'))
    )
    op.create_index('ix_responses_round_team', 'responses', ['round_id', 'team_id'], unique=False)
    op.create_table('answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.CheckConstraint('(value IS NULL) <> (text IS NULL)', name=op.f('ck_answers_value_or_text')),
    sa.CheckConstraint('text IS NULL OR length(text) <= 1000', name=op.f('ck_answers_text_length')),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_answers_response_id_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answers')),
    sa.UniqueConstraint('response_id', 'question_key', name=op.f('uq_answers_response_id_question_key'))
    )
    op.create_index('ix_answers_response_key_value', 'answers', ['response_id', 'question_key', 'value'], unique=False)
