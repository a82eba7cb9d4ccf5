"""Each person's own working week and country, from the roster CSV's `workdays` and `country`.

Both are empty for everyone already on the roster: their team's calendar (behaviour file) or the
default (`schedule.workdays`, `schedule.country`) applies, which is what applied before.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


CHECK = 'country IS NULL OR length(country) = 2'


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # Added in place: a batch would copy `people`, and dropping the old copy would cascade
        # to every row that refers to a person (foreign keys are on).
        op.add_column('people', sa.Column('workdays', sa.String(length=32), nullable=True))
        op.execute(
            'ALTER TABLE people ADD COLUMN country VARCHAR(2) '
            f'CONSTRAINT ck_people_country_is_alpha2 CHECK ({CHECK})'
        )
        return
    op.add_column('people', sa.Column('workdays', sa.String(length=32), nullable=True))
    op.add_column('people', sa.Column('country', sa.String(length=2), nullable=True))
    op.create_check_constraint(op.f('ck_people_country_is_alpha2'), 'people', CHECK)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_people_country_is_alpha2'), 'people', type_='check')
    op.drop_column('people', 'country')
    op.drop_column('people', 'workdays')
