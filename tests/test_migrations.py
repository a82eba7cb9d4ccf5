"""The migrations build, remove and rebuild exactly the schema the models describe, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

import bot.models
from bot.cli import main
from bot.db import Base, Database
from bot.migrate import downgrade, upgrade
from bot.privacy import pseudonym, week_pseudonym
from bot.surveys.service import opened
from tests.conftest import POSTGRES_URL

OLD_KEY = b"migration-test-pseudonym-key"

MODEL_TABLES = set(bot.models.Base.metadata.tables)  # importing bot.models registers every table

Pulse = Callable[..., tuple[int, str, str]]


@pytest.fixture
def pulse(capsys: pytest.CaptureFixture[str]) -> Pulse:
    """Run the `pulse` command in-process; return (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        out, err = capsys.readouterr()
        return exit_info.value.code, out, err

    return run


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database nobody has migrated yet: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
        yield database.engine
        database.dispose()
        return
    schema = f"pulse_migrations_{uuid.uuid4().hex[:10]}"
    admin = Database(POSTGRES_URL)
    try:
        with admin.engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # noqa: BLE001 — PostgreSQL is required, not optional
        admin.dispose()
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required for the test suite: {error}")
    database = Database(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    try:
        yield database.engine
    finally:
        database.dispose()
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def test_upgrade_to_head_creates_every_model_table(empty_database: Engine) -> None:
    upgrade(empty_database)

    assert tables(empty_database) == MODEL_TABLES | {"alembic_version"}


def test_downgrade_to_base_removes_every_table(empty_database: Engine) -> None:
    upgrade(empty_database)

    downgrade(empty_database, "base")

    assert tables(empty_database) <= {"alembic_version"}
    with empty_database.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 0


def test_upgrade_after_downgrade_rebuilds_the_same_schema(empty_database: Engine) -> None:
    upgrade(empty_database)
    downgrade(empty_database, "base")

    upgrade(empty_database)

    assert tables(empty_database) == MODEL_TABLES | {"alembic_version"}
    assert schema_differences(empty_database) == []


def test_fresh_migration_matches_the_models(empty_database: Engine) -> None:
    upgrade(empty_database)

    assert schema_differences(empty_database) == []


def test_test_databases_match_the_models(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert schema_differences(database.engine) == []
    finally:
        database.dispose()


def test_deliveries_sent_before_0004_take_the_persons_team(empty_database: Engine) -> None:
    upgrade(empty_database, "0003")
    with empty_database.begin() as connection:
        for statement in (
            "INSERT INTO teams (id, path, name) VALUES (1, 'Sales', 'Sales'), (2, 'Legal', 'Legal')",
            (
                "INSERT INTO people (id, slack_user_id, team_id, is_council, tz, active, away) VALUES "
                "(1, 'UANN', 1, false, 'UTC', true, false), (2, 'UBOB', 2, false, 'UTC', true, false)"
            ),
            "INSERT INTO question_sets (id, digest, questions, created_at) VALUES (1, 'd', '[]', '2026-11-23 10:00:00')",
            (
                "INSERT INTO pulse_rounds (id, week, question_set_id, closes_at, created_at) "
                "VALUES (1, '2026-W48', 1, '2026-11-30 12:00:00', '2026-11-23 10:00:00')"
            ),
            "INSERT INTO deliveries (id, round_id, person_id, status) VALUES (1, 1, 1, 'queued'), (2, 1, 2, 'queued')",
        ):
            connection.execute(text(statement))

    upgrade(empty_database, "0007")  # 0008 drops the column again, once weeks are released

    with empty_database.connect() as connection:
        rows = connection.execute(text("SELECT person_id, team_id FROM deliveries ORDER BY person_id")).all()
    assert [tuple(row) for row in rows] == [(1, 1), (2, 2)]
    downgrade(empty_database, "0003")
    with empty_database.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM deliveries")).scalar_one() == 2


def test_reminders_stamped_before_0005_count_as_sent(empty_database: Engine) -> None:
    upgrade(empty_database, "0004")
    with empty_database.begin() as connection:
        for statement in (
            "INSERT INTO teams (id, path, name) VALUES (1, 'Sales', 'Sales')",
            (
                "INSERT INTO people (id, slack_user_id, team_id, is_council, tz, active, away) VALUES "
                "(1, 'UANN', 1, false, 'UTC', true, false), (2, 'UBOB', 1, false, 'UTC', true, false)"
            ),
            "INSERT INTO question_sets (id, digest, questions, created_at) VALUES (1, 'd', '[]', '2026-11-23 10:00:00')",
            (
                "INSERT INTO pulse_rounds (id, week, question_set_id, closes_at, created_at) "
                "VALUES (1, '2026-W48', 1, '2026-11-30 12:00:00', '2026-11-23 10:00:00')"
            ),
            (
                "INSERT INTO deliveries (id, round_id, person_id, status, message_ts, reminded_at) VALUES "
                "(1, 1, 1, 'sent', '1.000001', '2026-11-25 10:00:00'), (2, 1, 2, 'sent', '1.000002', NULL)"
            ),
        ):
            connection.execute(text(statement))

    upgrade(empty_database)

    with empty_database.connect() as connection:
        rows = connection.execute(text("SELECT person_id, reminder_status FROM deliveries ORDER BY person_id")).all()
    # Ann's reminder went out before the upgrade; Bob's is still to come, so the job must not skip him.
    assert [tuple(row) for row in rows] == [(1, "sent"), (2, None)]


def test_comparison_would_notice_a_missing_table(empty_database: Engine) -> None:
    # Guards the test above: an unmigrated database must show up as differences.
    differences = schema_differences(empty_database)

    added = {diff[1].name for diff in differences if isinstance(diff, tuple) and diff[0] == "add_table"}
    assert added == MODEL_TABLES


# ---------------------------------------------------------------- through the command line


def test_db_upgrade_on_a_fresh_file_reports_up_to_date(
    pulse: Pulse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "operator.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")

    code, out, err = pulse("db", "upgrade")

    assert code == 0, err
    assert out == "Database is up to date.\n"
    database = Database(f"sqlite:///{path}")
    try:
        assert tables(database.engine) == MODEL_TABLES | {"alembic_version"}
    finally:
        database.dispose()


def test_db_upgrade_twice_is_harmless(pulse: Pulse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'operator.sqlite3'}")
    assert pulse("db", "upgrade")[0] == 0

    code, out, err = pulse("db", "upgrade")

    assert code == 0, err
    assert out == "Database is up to date.\n"


def test_db_upgrade_uses_the_default_file_in_the_working_directory(pulse: Pulse) -> None:
    code, out, _ = pulse("db", "upgrade")

    assert code == 0
    assert out == "Database is up to date.\n"
    assert Path("pulse.sqlite3").is_file()


def test_db_upgrade_against_an_unreachable_database_fails_in_one_line(
    pulse: Pulse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'no-such-dir' / 'pulse.sqlite3'}")

    code, out, err = pulse("db", "upgrade")

    assert code == 1
    assert out == ""
    assert err.startswith(f"pulse: cannot open the SQLite database {tmp_path / 'no-such-dir' / 'pulse.sqlite3'}: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_weeks_before_0008_are_released_with_what_was_shown_and_the_identifying_columns_go(
    empty_database: Engine,
) -> None:
    """Legal (5) and Board (2) answered a closed week under 0007; the upgrade releases it from
    those rows with nothing new, and drops the team, level and time the rows carried."""
    upgrade(empty_database, "0007")
    people = [(n, "Legal" if n <= 5 else "Board") for n in range(1, 8)]
    with empty_database.begin() as connection:
        connection.execute(text("INSERT INTO teams (id, path, name) VALUES (1, 'Legal', 'Legal'), (2, 'Board', 'Board')"))
        for n, team in people:
            connection.execute(
                text(
                    "INSERT INTO people (id, slack_user_id, team_id, level, is_council, tz, active, away) "
                    "VALUES (:n, :user, :team, 'lead', false, 'UTC', true, false)"
                ),
                {"n": n, "user": f"U{n}", "team": 1 if team == "Legal" else 2},
            )
        connection.execute(text(
            "INSERT INTO question_sets (id, digest, questions, created_at) VALUES (1, 'd', "
            "'[{\"key\": \"capability\", \"kind\": \"scale\", \"favourable_at_least\": 4}]', '2026-11-01 10:00:00')"
        ))
        connection.execute(text(
            "INSERT INTO pulse_rounds (id, week, question_set_id, closes_at, created_at) "
            "VALUES (1, '2026-W44', 1, '2026-11-02 12:00:00', '2026-10-27 10:00:00')"
        ))
        for n, team in people:
            team_id = 1 if team == "Legal" else 2
            connection.execute(
                text("INSERT INTO deliveries (id, round_id, person_id, team_id, status, message_ts) VALUES (:n, 1, :n, :t, 'sent', :ts)"),
                {"n": n, "t": team_id, "ts": f"1.{n}"},
            )
            connection.execute(
                text(
                    "INSERT INTO responses (id, round_id, pseudonym, team_id, level, skipped, updated_at) "
                    "VALUES (:n, 1, :who, :t, 'lead', false, '2026-10-28 10:00:00')"
                ),
                {"n": n, "who": pseudonym(OLD_KEY, f"U{n}") if n != 7 else "9" * 64, "t": team_id},
            )
            connection.execute(
                text("INSERT INTO answers (id, response_id, question_key, value) VALUES (:n, :n, 'capability', :v)"),
                {"n": n, "v": 5 if team == "Board" else 3},
            )

    upgrade(empty_database, "0008")

    with empty_database.connect() as connection:
        figures = connection.execute(
            text("SELECT measure, scope, label, people, total FROM released_figures WHERE week = '2026-W44' ORDER BY measure, scope, label")
        ).all()
        basis = connection.execute(text("SELECT basis, min_group_size FROM releases WHERE week = '2026-W44'")).one()
    # The old tree rule showed the organisation only (Legal beside it would isolate Board), and so
    # does the release: Board's answers are in the organisation's figure and nowhere else.
    assert [tuple(row) for row in figures] == [
        ("participation", "org", "", 7, 7.0),
        ("q:capability", "org", "", 7, 25.0),
    ]
    assert tuple(basis) == ("legacy", 5)
    assert not {"settled_weeks", "team_week_figures", "explainer_week_reach"} & tables(empty_database)

    # 0009 seals what each person answered under their pseudonym for that week; someone no longer
    # on the roster (the seventh row's pseudonym leads to nobody) gets a random one.
    with pytest.raises(Exception, match="set PULSE_PSEUDONYM_KEY"):
        upgrade(empty_database)
    upgrade(empty_database, pseudonym_key=OLD_KEY.decode())
    with empty_database.connect() as connection:
        stored = {who: sealed for who, sealed in connection.execute(text("SELECT pseudonym, sealed FROM responses"))}
    assert len(stored) == 7
    for n in range(1, 7):
        who = week_pseudonym(OLD_KEY, "2026-W44", f"U{n}")
        assert opened(OLD_KEY, "2026-W44", who, stored[who]).answers == {"capability": 5.0 if n == 6 else 3.0}
    columns = {table: {c["name"] for c in inspect(empty_database).get_columns(table)} for table in ("responses", "deliveries", "hidden_work_reports")}
    assert not {"team_id", "level", "updated_at", "created_at", "skipped"} & set().union(*columns.values())
    assert "answers" not in tables(empty_database)
