"""Shared fixtures: real databases (SQLite and PostgreSQL), settings, the local Slack server.

Every test that asks for `db` runs twice, once per database. PostgreSQL is not optional: if it
cannot be reached the tests fail rather than skip, because production runs on it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.db import Base, Database
from bot.settings import Settings, load_settings
from tests.databases import migrate, scratch_schema
from tests.slack_server import FakeSlack

POSTGRES_URL = os.environ.get("PULSE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@localhost:5432/test")
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"
PSEUDONYM_KEY = "test-pseudonym-key-0123456789"

SETTING_NAMES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_REDIRECT_URI",
    "SLACK_API_URL",
    "DATABASE_URL",
    "PULSE_COUNCIL_CHANNEL",
    "PULSE_PSEUDONYM_KEY",
    "PULSE_CONFIG",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A developer's own environment or .env must not leak into a test."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'pulse.sqlite3'}"
        migrate(url)
        yield url
        return
    with ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_schema(POSTGRES_URL, "pulse_test"))
        except Exception as error:  # noqa: BLE001 — turn any connection failure into a clear failure
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required for the test suite: {error}")
        migrate(url)
        yield url


@pytest.fixture(scope="session")
def _database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def db(_database: Database) -> Iterator[Database]:
    """The migrated database of this run, emptied after each test."""
    yield _database
    tables = list(reversed(Base.metadata.sorted_tables))
    with _database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The local Slack-compatible Web API server; the app is pointed at it with SLACK_API_URL."""
    with FakeSlack(bot_token=BOT_TOKEN) as server:
        yield server


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "pulse_pseudonym_key": PSEUDONYM_KEY,
        "pulse_council_channel": "CCOUNCIL",
        "_env_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def settings(database_url: str, db: Database, slack: FakeSlack) -> Settings:
    return make_settings(database_url=database_url, slack_api_url=slack.url)
