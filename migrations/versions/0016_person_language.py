"""Each person's language: the locale Slack reports for them, and the one they chose.

`locale` is what `users.list` / `users.info` say (e.g. `fr-FR`), refreshed by the roster sync;
`language` is set by `/pulse language`. Both are empty for everyone already on the roster, who
read the organisation's language (the behaviour file's `language`, English unless set), as
before, until the next roster sync reads their Slack locale.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Added in place on both databases: a batch would copy `people` on SQLite, and dropping the
    # old copy would cascade to every row that refers to a person (foreign keys are on).
    op.add_column('people', sa.Column('locale', sa.String(length=16), nullable=True))
    op.add_column('people', sa.Column('language', sa.String(length=8), nullable=True))


def downgrade() -> None:
    op.drop_column('people', 'language')
    op.drop_column('people', 'locale')
