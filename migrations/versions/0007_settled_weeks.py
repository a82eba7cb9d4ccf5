"""Settled weeks keep their per-team figures, so the digest stops re-adding months of answers.

A week whose round has closed and to which nothing more can be filed is settled: its per-team
figures (counts and sums, never a person) are written once into `team_week_figures`, and its
explainer reach (sent that week, and reached by its end) into `explainer_week_reach`, marked in
`settled_weeks`, and read from there by every later digest. Nothing is filled in here: the first
digest after the upgrade settles the weeks it reads.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('settled_weeks',
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("week LIKE '____-W__'", name=op.f('ck_settled_weeks_week_is_iso')),
    sa.PrimaryKeyConstraint('week', name=op.f('pk_settled_weeks'))
    )
    op.create_table('team_week_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('responded', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('tallies', sa.JSON(), nullable=False),
    sa.Column('hidden_minutes', sa.JSON(), nullable=False),
    sa.Column('hidden_reporters', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_week_figures_team_id_teams'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['week'], ['settled_weeks.week'], name=op.f('fk_team_week_figures_week_settled_weeks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_week_figures'))
    )
    with op.batch_alter_table('team_week_figures', schema=None) as batch_op:
        batch_op.create_index('ix_team_week_figures_week_team', ['week', 'team_id'], unique=False)

    op.create_table('explainer_week_reach',
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('explainer_key', sa.String(length=60), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('reached', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['week'], ['settled_weeks.week'], name=op.f('fk_explainer_week_reach_week_settled_weeks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('week', 'explainer_key', name=op.f('pk_explainer_week_reach'))
    )


def downgrade() -> None:
    op.drop_table('explainer_week_reach')
    with op.batch_alter_table('team_week_figures', schema=None) as batch_op:
        batch_op.drop_index('ix_team_week_figures_week_team')

    op.drop_table('team_week_figures')
    op.drop_table('settled_weeks')
