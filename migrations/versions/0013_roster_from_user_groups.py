"""The roster can come from Slack user groups as well as the CSV.

`people.roster_source` says which placed each person (everyone so far came from the CSV), so the
CSV import and the user-group sync each deactivate only the people they placed. `roster_syncs`
records the clock's daily sync, so it runs once a day however often the clock ticks.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KNOWN = "roster_source IN ('csv', 'usergroups')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN: rebuilding `people` in batch mode would drop the table every
        # delivery and report points at, with foreign keys enforced.
        op.execute(
            "ALTER TABLE people ADD COLUMN roster_source VARCHAR(12) DEFAULT 'csv' NOT NULL "
            f"CONSTRAINT ck_people_roster_source_known CHECK ({_KNOWN})"
        )
    else:
        op.add_column('people', sa.Column('roster_source', sa.String(length=12), server_default='csv', nullable=False))
        op.create_check_constraint(op.f('ck_people_roster_source_known'), 'people', _KNOWN)
    op.create_table('roster_syncs',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.CheckConstraint("status IN ('running', 'done', 'refused', 'failed')", name=op.f('ck_roster_syncs_status_known')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_roster_syncs'))
    )


def downgrade() -> None:
    op.drop_table('roster_syncs')
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE people DROP COLUMN roster_source")
    else:
        op.drop_constraint(op.f('ck_people_roster_source_known'), 'people', type_='check')
        op.drop_column('people', 'roster_source')
