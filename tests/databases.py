"""Throw-away databases, for the test suite and the benchmarks alike."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from bot.db import Database
from bot.migrate import upgrade


@contextmanager
def scratch_schema(url: str, prefix: str) -> Iterator[str]:
    """A new, empty schema in the PostgreSQL database at `url`, dropped afterwards: the URL to use it.

    A schema of its own per run, so parallel runs and leftovers never collide.
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = Database(url)
    try:
        with admin.engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in url else "?"
        try:
            yield f"{url}{separator}options=-csearch_path%3D{schema}"
        finally:
            with admin.engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema."""
    database = Database(url)
    upgrade(database.engine)
    database.dispose()
