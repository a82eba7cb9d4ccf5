"""Schema changes through Alembic, from the `migrations/` folder beside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(
    engine: Engine, revision: str = "head", *, min_group_size: int | None = None, pseudonym_key: str | None = None
) -> None:
    """Bring the schema to `revision`. `min_group_size` is the rule's k for weeks an upgrade
    releases (0008), `pseudonym_key` the secret stored answers are sealed with (0009); without
    them the settings (PULSE_CONFIG, PULSE_PSEUDONYM_KEY) are read."""
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        if min_group_size is not None:
            config.attributes["min_group_size"] = min_group_size
        if pseudonym_key is not None:
            config.attributes["pseudonym_key"] = pseudonym_key
        command.upgrade(config, revision)


def revisions(engine: Engine) -> tuple[str | None, str, bool]:
    """The schema revision the database is at (None for an empty one), the newest this version
    has, and whether this version knows the database's (a newer version may have migrated it)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    script = ScriptDirectory.from_config(alembic_config(engine))
    head = script.get_current_head()
    assert head is not None
    try:
        known = current is None or script.get_revision(current) is not None
    except CommandError:
        known = False
    return current, head, known


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
