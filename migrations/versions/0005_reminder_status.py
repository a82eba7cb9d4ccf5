"""Reminders are claimed, then marked sent or failed, so a crash mid-send can be recovered.

Until now a reminder was claimed by stamping `reminded_at`, and that stamp was all there was: a
process that died between the claim and the send lost the reminder. `reminder_status` says what
became of it; existing stamped reminders are taken as sent.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_status', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_deliveries_reminder_status_known'),
            "reminder_status IS NULL OR reminder_status IN ('sending', 'sent', 'failed')",
        )
    op.execute("UPDATE deliveries SET reminder_status = 'sent' WHERE reminded_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_deliveries_reminder_status_known'), type_='check')
        batch_op.drop_column('reminder_status')
