"""Raw answers, comments and notes past the retention period are deleted; recent ones stay."""

from __future__ import annotations

from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.cli import main
from bot.db import Database
from bot.labour.service import log_hidden_work
from bot.models import HiddenWorkReport, PulseRound, Response
from bot.retention import run_retention_job
from bot.slack.app import Services, make_services
from bot.surveys.service import record_answer, record_comment, run_pulse_job
from tests import factories, stored
from tests.conftest import BOT_TOKEN, PSEUDONYM_KEY, make_settings
from tests.slack_server import FakeSlack


def count(db: Database, table: type) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def answer_week(services: Services, db: Database, tuesday: str) -> None:
    with freeze_time(f"{tuesday} 09:00"):
        run_pulse_job(db, services.messenger, services.behaviour)
    with db.session() as session:
        round_id = max(session.scalars(select(PulseRound.id)).all())
    with freeze_time(f"{tuesday} 10:00"):
        record_answer(db, services.key, "UANNA", round_id, "capability", 3)
        record_comment(db, services.key, "UANNA", round_id, "A private remark")
        log_hidden_work(db, services.key, "UANNA", minutes=30, category="validation", note="checked it")


@pytest.fixture
def services(database_url: str, db: Database, slack: FakeSlack, tmp_path: Path) -> Services:
    config = tmp_path / "behaviour.yml"
    config.write_text("retention_days: 60\n")
    return make_services(make_settings(database_url=database_url, slack_api_url=slack.url, pulse_config=config), db)


def test_old_answers_comments_and_notes_are_deleted_and_recent_ones_stay(services: Services, db: Database) -> None:
    factories.person(db, "UANNA", tz="Europe/Berlin")
    answer_week(services, db, "2026-08-04")  # week 32: past 60 days by late November
    answer_week(services, db, "2026-11-17")  # week 47: kept
    assert (count(db, Response), stored.answer_count(db, PSEUDONYM_KEY.encode()), count(db, HiddenWorkReport)) == (2, 4, 2)
    with freeze_time("2026-11-23 03:00"):
        first = run_retention_job(db, services.behaviour, services.key)
        second = run_retention_job(db, services.behaviour, services.key)
    assert (first.responses, first.hidden_work) == (1, 1)
    assert (second.responses, second.hidden_work) == (0, 0)
    assert (count(db, Response), stored.answer_count(db, PSEUDONYM_KEY.encode()), count(db, HiddenWorkReport)) == (1, 2, 1)
    with db.session() as session:
        kept = session.scalars(select(PulseRound.week).join(Response, Response.round_id == PulseRound.id)).all()
    assert kept == ["2026-W47"]


def test_pulse_jobs_run_retention_reports_what_it_deleted(
    database_url: str, db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "PULSE_PSEUDONYM_KEY": PSEUDONYM_KEY}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_info:
        main(["jobs", "run", "retention"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("retention before ")


