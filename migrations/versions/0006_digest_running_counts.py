"""Indexes for the digest: the weeks' answers, and the running counts per explainer.

The digest reads 12 weeks of answers through their responses' id range; with the value in an
index beside the response id and the question, those answers are read from the index alone, and
PostgreSQL stops scanning the whole table once a year's history makes that range look large.
Explainer reach and helpfulness add up every week before the reported one: without an index the
digest read every explainer delivery and every rating ever made; now both are counted from an
index alone, in explainer order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index('ix_answers_response_key_value', ['response_id', 'question_key', 'value'], unique=False)
    with op.batch_alter_table('explainer_deliveries', schema=None) as batch_op:
        batch_op.create_index(
            'ix_explainer_deliveries_status_key_week', ['status', 'explainer_key', 'week'], unique=False
        )
    with op.batch_alter_table('explainer_feedback', schema=None) as batch_op:
        batch_op.create_index(
            'ix_explainer_feedback_key_updated_helpful', ['explainer_key', 'updated_at', 'helpful'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('explainer_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_explainer_feedback_key_updated_helpful')
    with op.batch_alter_table('explainer_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_explainer_deliveries_status_key_week')
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_response_key_value')
