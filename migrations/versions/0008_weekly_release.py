"""One immutable release per week; answers no longer carry team, level or time.

Adds the week roster (each person's team and level for a week), the releases and their figures,
and the open week's daily progress. Weeks that have closed are released here from what older
versions showed (`bot.release.legacy`): the organisation and the teams the old tree rule showed,
each figure kept only where it passes the new rule, nothing new. Weeks still open get a roster
from their deliveries and the current roster, and are released normally when they close.

Then what let a dump or a recount identify people goes: the team, level and time columns of
hidden-work reports and explainer ratings (responses lose theirs in 0009), the team of deliveries, the pseudonym beside
the name on reports shared for credit, and the kept per-team figures of settled weeks (raw sums,
for teams of one too). Older backups still hold them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from bot.release.legacy import release_legacy_weeks
from bot.release.service import final_at
from bot.weeks import IsoWeek, now

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _min_group_size() -> int:
    given = context.config.attributes.get("min_group_size")
    if given is not None:
        return int(given)
    from bot.settings import load_settings

    return load_settings().behaviour.min_group_size


def _create_tables() -> None:
    op.create_table('week_roster',
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('team_path', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=40), nullable=True),
    sa.CheckConstraint("week LIKE '____-W__'", name=op.f('ck_week_roster_week_is_iso')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_week_roster_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('week', 'person_id', name=op.f('pk_week_roster'))
    )
    op.create_table('releases',
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('min_group_size', sa.Integer(), nullable=False),
    sa.Column('rule_version', sa.Integer(), nullable=False),
    sa.Column('basis', sa.String(length=10), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("basis IN ('snapshot', 'legacy')", name=op.f('ck_releases_basis_known')),
    sa.CheckConstraint("week LIKE '____-W__'", name=op.f('ck_releases_week_is_iso')),
    sa.PrimaryKeyConstraint('week', name=op.f('pk_releases'))
    )
    op.create_table('released_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('measure', sa.String(length=80), nullable=False),
    sa.Column('scope', sa.String(length=5), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.CheckConstraint("scope IN ('org', 'team', 'level')", name=op.f('ck_released_figures_scope_known')),
    sa.CheckConstraint('people > 0', name=op.f('ck_released_figures_has_people')),
    sa.ForeignKeyConstraint(['week'], ['releases.week'], name=op.f('fk_released_figures_week_releases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_released_figures')),
    sa.UniqueConstraint('week', 'measure', 'scope', 'label', name=op.f('uq_released_figures_week_measure_scope_label'))
    )
    op.create_table('progress_days',
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.CheckConstraint("week LIKE '____-W__'", name=op.f('ck_progress_days_week_is_iso')),
    sa.PrimaryKeyConstraint('week', 'day', name=op.f('pk_progress_days'))
    )
    op.create_table('progress_figures',
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['week', 'day'], ['progress_days.week', 'progress_days.day'], name=op.f('fk_progress_figures_week_progress_days'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('week', 'day', 'label', name=op.f('pk_progress_figures'))
    )


def _timestamp(value: object) -> dt.datetime:
    stamp = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.timezone.utc)


def _first_ratings(bind: sa.Connection) -> None:
    with op.batch_alter_table('explainer_feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_week', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('first_helpful', sa.Boolean(), nullable=True))
    rows = bind.execute(sa.text("SELECT id, updated_at, helpful FROM explainer_feedback")).all()
    if rows:
        bind.execute(
            sa.text("UPDATE explainer_feedback SET first_week = :week, first_helpful = :helpful WHERE id = :id"),
            [{"id": i, "week": str(IsoWeek.of(_timestamp(at).date())), "helpful": helpful} for i, at, helpful in rows],
        )
    with op.batch_alter_table('explainer_feedback', schema=None) as batch_op:
        batch_op.alter_column('first_week', existing_type=sa.String(length=8), nullable=False)
        batch_op.alter_column('first_helpful', existing_type=sa.Boolean(), nullable=False)
        batch_op.create_check_constraint(batch_op.f('ck_explainer_feedback_first_week_is_iso'), "first_week LIKE '____-W__'")
        batch_op.create_index('ix_explainer_feedback_first_week', ['first_week', 'explainer_key'], unique=False)


def _weeks(bind: sa.Connection) -> tuple[list[str], list[str]]:
    """Weeks with inputs: those final now (to release) and those still open (to snapshot)."""
    closes = dict(bind.execute(sa.text("SELECT week, closes_at FROM pulse_rounds")).all())
    weeks = set(closes)
    for query in (
        "SELECT DISTINCT week FROM hidden_work_reports",
        "SELECT DISTINCT week FROM explainer_deliveries",
        "SELECT DISTINCT first_week FROM explainer_feedback",
    ):
        weeks |= set(bind.scalars(sa.text(query)))
    at = now()
    final, still_open = [], []
    for week in sorted(weeks):
        close = closes.get(week)
        (final if final_at(week, None if close is None else _timestamp(close)) <= at else still_open).append(week)
    return final, still_open


def _snapshot_open(bind: sa.Connection, weeks: list[str]) -> None:
    """An open week's roster: the team each delivery was sent to, then everyone else as they are now."""
    for week in weeks:
        bind.execute(
            sa.text(
                "INSERT INTO week_roster (week, person_id, team_path, level) "
                "SELECT r.week, d.person_id, t.path, p.level FROM deliveries d "
                "JOIN pulse_rounds r ON r.id = d.round_id JOIN people p ON p.id = d.person_id "
                "JOIN teams t ON t.id = COALESCE(d.team_id, p.team_id) WHERE r.week = :week"
            ),
            {"week": week},
        )
        bind.execute(
            sa.text(
                "INSERT INTO week_roster (week, person_id, team_path, level) "
                "SELECT :week, p.id, t.path, p.level FROM people p JOIN teams t ON t.id = p.team_id "
                "WHERE p.active = :yes AND NOT EXISTS "
                "(SELECT 1 FROM week_roster w WHERE w.week = :week AND w.person_id = p.id)"
            ),
            {"week": week, "yes": True},
        )


def _unlink_shared_reports(bind: sa.Connection) -> None:
    """A report shared for credit names its author; its pseudonym would then name every other
    answer filed under it. It gets a random one instead."""
    ids = bind.scalars(sa.text("SELECT id FROM hidden_work_reports WHERE person_id IS NOT NULL")).all()
    if ids:
        bind.execute(
            sa.text("UPDATE hidden_work_reports SET pseudonym = :pseudonym WHERE id = :id"),
            [{"id": i, "pseudonym": secrets.token_hex(32)} for i in ids],
        )


def _drop_what_leaks() -> None:
    op.drop_table('explainer_week_reach')
    op.drop_table('team_week_figures')
    op.drop_table('settled_weeks')
    # Responses lose theirs in 0009, which builds the table anew: rebuilding it here would, on
    # SQLite, drop the old table under its answers, and their foreign key would delete them.
    with op.batch_alter_table('hidden_work_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_hidden_work_reports_week_team')
        batch_op.drop_constraint('fk_hidden_work_reports_team_id_teams', type_='foreignkey')
        batch_op.drop_column('team_id')
        batch_op.drop_column('level')
        batch_op.drop_column('created_at')
        batch_op.create_index('ix_hidden_work_reports_week', ['week'], unique=False)
    with op.batch_alter_table('explainer_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_explainer_feedback_key_updated_helpful')
        batch_op.drop_constraint('fk_explainer_feedback_team_id_teams', type_='foreignkey')
        batch_op.drop_column('team_id')
        batch_op.drop_column('level')
        batch_op.drop_column('updated_at')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint('fk_deliveries_team_id_teams', type_='foreignkey')
        batch_op.drop_column('team_id')


def upgrade() -> None:
    bind = op.get_bind()
    _create_tables()
    _first_ratings(bind)
    final, still_open = _weeks(bind)
    if final:
        release_legacy_weeks(bind, final, _min_group_size(), now())
    _snapshot_open(bind, still_open)
    _unlink_shared_reports(bind)
    _drop_what_leaks()


def _restore_columns(table: str, stamp: str | None, index: tuple[str, list[str]] | None) -> None:
    """Put back a dropped team/level (empty) and time column (the upgrade's moment) on a downgrade."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        if table != 'deliveries':
            batch_op.add_column(sa.Column('level', sa.String(length=40), nullable=True))
        if stamp is not None:
            batch_op.add_column(sa.Column(stamp, sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f(f'fk_{table}_team_id_teams'), 'teams', ['team_id'], ['id'], ondelete='SET NULL')
    if stamp is not None:
        op.get_bind().execute(sa.text(f"UPDATE {table} SET {stamp} = :at"), {"at": now()})
    with op.batch_alter_table(table, schema=None) as batch_op:
        if stamp is not None:
            batch_op.alter_column(stamp, existing_type=sa.DateTime(timezone=True), nullable=False)
        if index is not None:
            batch_op.create_index(index[0], index[1], unique=False)


def downgrade() -> None:
    """The schema of 0007 again, without what the upgrade dropped: the old team, level and time
    columns come back empty (times: the downgrade's), settled weeks start anew, releases go."""
    _restore_columns('deliveries', None, None)
    _restore_columns('explainer_feedback', 'updated_at', ('ix_explainer_feedback_key_updated_helpful', ['explainer_key', 'updated_at', 'helpful']))
    with op.batch_alter_table('hidden_work_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_hidden_work_reports_week')
    _restore_columns('hidden_work_reports', 'created_at', ('ix_hidden_work_reports_week_team', ['week', 'team_id']))
    with op.batch_alter_table('explainer_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_explainer_feedback_first_week')
        batch_op.drop_constraint(batch_op.f('ck_explainer_feedback_first_week_is_iso'), type_='check')
        batch_op.drop_column('first_helpful')
        batch_op.drop_column('first_week')
    op.drop_table('progress_figures')
    op.drop_table('progress_days')
    op.drop_table('released_figures')
    op.drop_table('releases')
    op.drop_table('week_roster')
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
