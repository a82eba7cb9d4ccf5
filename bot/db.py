"""Engine, sessions and the declarative base, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Named constraints make Alembic migrations reviewable and downgrades possible on SQLite.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"), **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # WAL lets the web process read while the clock writes; NORMAL sync is safe with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """An engine plus a session factory; one per process, passed to services and listeners."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back whole when it raises."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A Core transaction without an ORM session: for the one-statement writes a fan-out
        makes per DM, where the session's own bookkeeping would be most of the cost."""
        with self.engine.begin() as connection:
            yield connection

    def ping(self) -> bool:
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


def first_line(error: BaseException) -> str:
    """The driver's own message for a database error, first line only (psycopg adds hints below)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def connection_problem(url: str) -> str | None:
    """Why the database at `url` cannot be reached, or None when it answers."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        return first_line(error)
    finally:
        engine.dispose()
    return None


def cannot_reach(url: str, problem: str) -> str:
    """One line saying which database could not be reached (never its password) and why."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"cannot open the SQLite database {parsed.database or ':memory:'}: {problem}"
    host = parsed.host or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"cannot connect to the database at {host}{port} (database {parsed.database or '-'}): {problem}"


def conflict_insert(session: Session, table: Any) -> Any:
    """The INSERT of the session's database, which takes ON CONFLICT clauses (PostgreSQL, SQLite)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def upsert(
    session: Session,
    table: Any,
    rows: list[dict[str, Any]],
    keys: list[str],
    update: list[str] | None = None,
) -> None:
    """INSERT … ON CONFLICT on either database: how a double click records one row, not two.

    With `update`, a conflicting row takes the new values of those columns; otherwise it is kept.
    """
    if not rows:
        return
    # Rows go as parameters, not literal VALUES, so the compiled statement is cached and reused.
    statement = conflict_insert(session, table)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={name: statement.excluded[name] for name in update}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    session.execute(statement, rows)
