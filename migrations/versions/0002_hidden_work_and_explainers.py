"""Hidden-work reports, explainer deliveries, feedback and questions for the council.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('explainer_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('explainer_key', sa.String(length=60), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=40), nullable=True),
    sa.Column('helpful', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(pseudonym) = 64', name=op.f('ck_explainer_feedback_pseudonym_is_hmac')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_explainer_feedback_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_explainer_feedback')),
    sa.UniqueConstraint('explainer_key', 'pseudonym', name=op.f('uq_explainer_feedback_explainer_key_pseudonym'))
    )
    op.create_table('explainer_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('explainer_key', sa.String(length=60), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=100), nullable=True),
    sa.CheckConstraint("status != 'sent' OR message_ts IS NOT NULL", name=op.f('ck_explainer_deliveries_sent_has_message')),
    sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name=op.f('ck_explainer_deliveries_status_known')),
    sa.CheckConstraint("week LIKE '____-W__'", name=op.f('ck_explainer_deliveries_week_is_iso')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_explainer_deliveries_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_explainer_deliveries')),
    sa.UniqueConstraint('person_id', 'explainer_key', name=op.f('uq_explainer_deliveries_person_id_explainer_key')),
    sa.UniqueConstraint('person_id', 'week', name=op.f('uq_explainer_deliveries_person_id_week'))
    )
    with op.batch_alter_table('explainer_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_explainer_deliveries_week_status', ['week', 'status'], unique=False)

    op.create_table('explainer_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('explainer_key', sa.String(length=60), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.CheckConstraint('length(text) BETWEEN 1 AND 1000', name=op.f('ck_explainer_questions_text_length')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_explainer_questions_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_explainer_questions'))
    )
    with op.batch_alter_table('explainer_questions', schema=None) as batch_op:
        batch_op.create_index('ix_explainer_questions_asked_at', ['asked_at'], unique=False)

    op.create_table('hidden_work_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=40), nullable=True),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('tool', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('shared_with_manager', sa.Boolean(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("category IN ('validation', 'prompting', 'cleanup', 'exceptions', 'workaround', 'other')", name=op.f('ck_hidden_work_reports_category_known')),
    sa.CheckConstraint("week LIKE '____-W__'", name=op.f('ck_hidden_work_reports_week_is_iso')),
    sa.CheckConstraint('length(pseudonym) = 64', name=op.f('ck_hidden_work_reports_pseudonym_is_hmac')),
    sa.CheckConstraint('minutes BETWEEN 1 AND 720', name=op.f('ck_hidden_work_reports_minutes_in_range')),
    sa.CheckConstraint('note IS NULL OR length(note) <= 500', name=op.f('ck_hidden_work_reports_note_length')),
    sa.CheckConstraint('shared_with_manager = (person_id IS NOT NULL)', name=op.f('ck_hidden_work_reports_named_only_when_shared')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_hidden_work_reports_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_hidden_work_reports_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hidden_work_reports'))
    )
    with op.batch_alter_table('hidden_work_reports', schema=None) as batch_op:
        batch_op.create_index('ix_hidden_work_reports_pseudonym_week', ['pseudonym', 'week'], unique=False)
        batch_op.create_index('ix_hidden_work_reports_week_team', ['week', 'team_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('hidden_work_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_hidden_work_reports_week_team')
        batch_op.drop_index('ix_hidden_work_reports_pseudonym_week')

    op.drop_table('hidden_work_reports')
    with op.batch_alter_table('explainer_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_explainer_questions_asked_at')

    op.drop_table('explainer_questions')
    with op.batch_alter_table('explainer_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_explainer_deliveries_week_status')

    op.drop_table('explainer_deliveries')
    op.drop_table('explainer_feedback')
