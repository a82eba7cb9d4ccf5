"""Questions keep their week, not their time; anonymous ones go out in a daily batch.

`explainer_questions.asked_at` becomes `week` (the ISO week it was asked in), and
`question_batches` records the days a batch was posted, so it is posted once a day. Older
backups still hold the times.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.weeks import IsoWeek

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamp(value: object) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def upgrade() -> None:
    op.create_table('question_batches',
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_question_batches'))
    )
    bind = op.get_bind()
    with op.batch_alter_table('explainer_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('week', sa.String(length=8), nullable=True))
    rows = bind.execute(sa.text("SELECT id, asked_at FROM explainer_questions")).all()
    if rows:
        bind.execute(
            sa.text("UPDATE explainer_questions SET week = :week WHERE id = :id"),
            [{"id": i, "week": str(IsoWeek.of(_stamp(at).date()))} for i, at in rows],
        )
    with op.batch_alter_table('explainer_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_explainer_questions_asked_at')
        batch_op.drop_column('asked_at')
        batch_op.alter_column('week', existing_type=sa.String(length=8), nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_explainer_questions_week_is_iso'), "week LIKE '____-W__'")
        batch_op.create_index('ix_explainer_questions_week', ['week'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('explainer_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asked_at', sa.DateTime(timezone=True), nullable=True))
    rows = op.get_bind().execute(sa.text("SELECT id, week FROM explainer_questions")).all()
    if rows:
        op.get_bind().execute(
            sa.text("UPDATE explainer_questions SET asked_at = :at WHERE id = :id"),
            [{"id": i, "at": dt.datetime.combine(IsoWeek.parse(week).monday, dt.time(12), tzinfo=dt.timezone.utc)} for i, week in rows],
        )
    with op.batch_alter_table('explainer_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_explainer_questions_week')
        batch_op.drop_constraint(batch_op.f('ck_explainer_questions_week_is_iso'), type_='check')
        batch_op.drop_column('week')
        batch_op.alter_column('asked_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index('ix_explainer_questions_asked_at', ['asked_at'], unique=False)
    op.drop_table('question_batches')
