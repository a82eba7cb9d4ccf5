"""Deliveries record the person's team at the time, so "sent" per team survives a move.

Existing deliveries are backfilled from the person's current team: the best that can be known
about the past, and exact for everyone who has not moved since.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_deliveries_team_id_teams'), 'teams', ['team_id'], ['id'], ondelete='SET NULL'
        )

    op.execute(
        'UPDATE deliveries SET team_id = '
        '(SELECT people.team_id FROM people WHERE people.id = deliveries.person_id)'
    )


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_deliveries_team_id_teams'), type_='foreignkey')
        batch_op.drop_column('team_id')
