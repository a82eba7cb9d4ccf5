"""Fan-out runs keep a heartbeat, so the claims of a run that died are taken over at once.

`job_runs` holds one row per run of the pulse, reminder and explainer jobs that claimed
deliveries, with the time of its last heartbeat; a claimed delivery names its run (`run_id`, and
`reminder_run_id` for the reminder). Claims taken before this revision name no run and keep the
old ten-minute lease.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reminder_run_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_deliveries_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_reminder_run_id'), ['reminder_run_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_deliveries_run_id_job_runs'), 'job_runs', ['run_id'], ['id'], ondelete='SET NULL'
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_deliveries_reminder_run_id_job_runs'), 'job_runs', ['reminder_run_id'], ['id'],
            ondelete='SET NULL',
        )
    with op.batch_alter_table('explainer_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('run_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_explainer_deliveries_run_id'), ['run_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_explainer_deliveries_run_id_job_runs'), 'job_runs', ['run_id'], ['id'], ondelete='SET NULL'
        )


def downgrade() -> None:
    with op.batch_alter_table('explainer_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_explainer_deliveries_run_id_job_runs'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_explainer_deliveries_run_id'))
        batch_op.drop_column('run_id')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_deliveries_reminder_run_id_job_runs'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_deliveries_run_id_job_runs'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_deliveries_reminder_run_id'))
        batch_op.drop_index(batch_op.f('ix_deliveries_run_id'))
        batch_op.drop_column('reminder_run_id')
        batch_op.drop_column('run_id')
    op.drop_table('job_runs')
