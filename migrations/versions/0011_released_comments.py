"""Pulse comments are released to the council with their week, and posted in the digest's thread.

`released_comments` holds each released comment sealed, under a random id, with its week and
nothing else; `comment_threads` records how far a week's comments have been posted. Weeks
released before this migration keep their releases as they are: their comments stay in the
responses (for `/pulse mydata`, until forget or retention), never released.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('released_comments',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['week'], ['releases.week'], name=op.f('fk_released_comments_week_releases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_released_comments')),
    sqlite_with_rowid=False
    )
    op.create_index('ix_released_comments_week', 'released_comments', ['week'], unique=False)
    op.create_table('comment_threads',
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('parts_posted', sa.Integer(), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=100), nullable=True),
    sa.CheckConstraint("status IN ('posting', 'posted', 'failed')", name=op.f('ck_comment_threads_status_known')),
    sa.CheckConstraint('parts_posted >= 0', name=op.f('ck_comment_threads_parts_not_negative')),
    sa.ForeignKeyConstraint(['week'], ['releases.week'], name=op.f('fk_comment_threads_week_releases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('week', name=op.f('pk_comment_threads'))
    )


def downgrade() -> None:
    op.drop_table('comment_threads')
    op.drop_index('ix_released_comments_week', table_name='released_comments')
    op.drop_table('released_comments')
