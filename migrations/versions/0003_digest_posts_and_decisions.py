"""Council digest posts (one per ISO week) and the council's decisions per rollout.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('digest_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=True),
    sa.Column('message_ts', sa.String(length=32), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=100), nullable=True),
    sa.CheckConstraint("status != 'posted' OR message_ts IS NOT NULL", name=op.f('ck_digest_posts_posted_has_message')),
    sa.CheckConstraint("status IN ('posting', 'posted', 'failed')", name=op.f('ck_digest_posts_status_known')),
    sa.CheckConstraint("week LIKE '____-W__'", name=op.f('ck_digest_posts_week_is_iso')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_posts')),
    sa.UniqueConstraint('week', name=op.f('uq_digest_posts_week'))
    )
    op.create_table('rollout_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rollout_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.String(length=32), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decision IN ('continue', 'pause', 'review')", name=op.f('ck_rollout_decisions_decision_known')),
    sa.CheckConstraint("week LIKE '____-W__'", name=op.f('ck_rollout_decisions_week_is_iso')),
    sa.ForeignKeyConstraint(['rollout_id'], ['rollouts.id'], name=op.f('fk_rollout_decisions_rollout_id_rollouts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollout_decisions'))
    )
    with op.batch_alter_table('rollout_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_rollout_decisions_rollout_decided', ['rollout_id', 'decided_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rollout_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_rollout_decisions_rollout_decided')

    op.drop_table('rollout_decisions')
    op.drop_table('digest_posts')
