"""The roster: CSV import (all or nothing, line numbers), resolved through Slack, and Slack sync."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.cli import main
from bot.db import Database
from bot.errors import RosterError
from bot.models import Manager, Person, Team
from bot.roster.service import RosterInvalid, import_roster, import_roster_file, parse_roster, sync_roster
from bot.settings import AwayStatus, Settings
from bot.slack.client import make_web_client
from bot.slack.directory import SlackDirectory
from tests.conftest import BOT_TOKEN
from tests.harness import running_app
from tests.slack_server import FakeSlack

AWAY = AwayStatus()


@pytest.fixture
def directory(slack: FakeSlack) -> SlackDirectory:
    return SlackDirectory(make_web_client(BOT_TOKEN, slack.url))


def people(db: Database) -> dict[str, Person]:
    with db.session() as session:
        return {p.slack_user_id: p for p in session.scalars(select(Person))}


def teams(db: Database) -> dict[str, str | None]:
    with db.session() as session:
        rows = session.scalars(select(Team)).all()
        by_id = {t.id: t.path for t in rows}
        return {t.path: by_id.get(t.parent_id) if t.parent_id else None for t in rows}


def run_import(db: Database, directory: SlackDirectory, text: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return import_roster(db, parse_roster(text), directory, away=AWAY, **kwargs)  # type: ignore[arg-type]


def test_import_creates_nested_teams_managers_and_council(db: Database, slack: FakeSlack, directory: SlackDirectory) -> None:
    slack.add_user("UANA", tz="Europe/Berlin")
    slack.add_user("UBEN", tz="America/New_York")
    result = run_import(
        db,
        directory,
        "user_id,team,manages,level,council\n"
        "UANA,Sales/EMEA/North,,entry,no\n"
        "UBEN,Sales,Sales/EMEA;Sales/Americas,lead,YES\n",
    )
    assert result.summary() == "Imported 2 people (2 new, 0 updated, 0 deactivated); 4 new teams."
    assert teams(db) == {"Sales": None, "Sales/EMEA": "Sales", "Sales/EMEA/North": "Sales/EMEA", "Sales/Americas": "Sales"}
    roster = people(db)
    assert roster["UANA"].tz == "Europe/Berlin" and roster["UANA"].level == "entry" and not roster["UANA"].is_council
    assert roster["UBEN"].is_council and roster["UBEN"].tz == "America/New_York"
    with db.session() as session:
        managed = session.execute(select(Team.path).join(Manager, Manager.team_id == Team.id)).scalars().all()
    assert sorted(managed) == ["Sales/Americas", "Sales/EMEA"]


def test_email_rows_are_resolved_through_slack(db: Database, slack: FakeSlack, directory: SlackDirectory) -> None:
    slack.add_user("UCARLA", email="Carla@Example.com", tz="Asia/Tokyo")
    run_import(db, directory, "email,team,level\ncarla@example.com,Finance,experienced\n")
    assert people(db)["UCARLA"].tz == "Asia/Tokyo"


def test_bad_rows_report_their_line_numbers_and_nothing_is_written(db: Database, slack: FakeSlack, directory: SlackDirectory) -> None:
    slack.add_user("UANA")
    text = (
        "user_id,team,manages,level,council\n"
        "UANA,Sales,,entry,no\n"
        "not-an-id,Sales,,entry,no\n"
        "UANA,Sales,,entry,no\n"
        ",Sales,,entry,no\n"
        "UBOB,Sales//EMEA,,entry,maybe\n"
    )
    with pytest.raises(RosterInvalid) as failure:
        parse_roster(text)
    assert str(failure.value) == "the roster has 4 errors; nothing was imported"
    assert failure.value.problems == [
        "line 3: user_id 'not-an-id' is not a Slack user id (like U012ABCDEF)",
        "line 4: UANA is already on line 2",
        "line 5: needs a user_id or an email",
        "line 6: team 'Sales//EMEA' is not a team path such as Sales/EMEA",
    ]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "line 1: the file is empty; it needs a header row"),
        ("user_id,team,colour\nUANA,Sales,red\n", "line 1: unknown column 'colour'"),
        ("user_id,level\nUANA,entry\n", "line 1: a team column is required"),
        ("user_id,team\n", "line 2: the file has a header but no people"),
        ("user_id,team,council\nUANA,Sales,perhaps\n", "line 2: council must be yes or no, not 'perhaps'"),
        ("email,team\nnobody-at-all,Sales\n", "line 2: email 'nobody-at-all' is not an email address"),
        ("user_id,team,team\nUANA,Sales,Ops\n", "line 1: column 'team' appears twice"),
    ],
)
def test_malformed_files_name_the_problem(text: str, problem: str) -> None:
    with pytest.raises(RosterInvalid) as failure:
        parse_roster(text)
    assert failure.value.problems[0] == problem


def test_a_long_list_of_problems_is_cut_short() -> None:
    text = "user_id,team\n" + "".join(f"bad-{n},Sales\n" for n in range(25))
    with pytest.raises(RosterInvalid) as failure:
        parse_roster(text)
    assert str(failure.value) == "the roster has 25 errors; nothing was imported"
    assert len(failure.value.problems) == 21
    assert failure.value.problems[0].startswith("line 2: user_id 'bad-0'")
    assert failure.value.problems[-1] == "… and 5 more"


def test_unknown_email_is_an_error_with_its_line_and_nothing_is_written(
    db: Database, slack: FakeSlack, directory: SlackDirectory
) -> None:
    slack.add_user("UANA", email="ana@example.com")
    with pytest.raises(RosterInvalid) as failure:
        run_import(db, directory, "email,team\nana@example.com,Sales\nghost@example.com,Sales\n")
    assert failure.value.problems == ["line 3: Slack has no user ghost@example.com"]
    assert people(db) == {}
    assert teams(db) == {}


def test_deactivated_and_bot_accounts_cannot_be_enrolled(db: Database, slack: FakeSlack, directory: SlackDirectory) -> None:
    slack.add_user("UGONE", deleted=True)
    slack.add_user("UROBOT", is_bot=True)
    with pytest.raises(RosterInvalid) as failure:
        run_import(db, directory, "user_id,team\nUGONE,Sales\nUROBOT,Sales\n")
    assert failure.value.problems == ["line 2: UGONE is deactivated in Slack", "line 3: UROBOT is a bot, not a person"]


def test_dry_run_reports_the_same_counts_and_writes_nothing(db: Database, slack: FakeSlack, directory: SlackDirectory) -> None:
    slack.add_user("UANA")
    result = run_import(db, directory, "user_id,team\nUANA,Sales/EMEA\n", dry_run=True)
    assert result.summary() == "Dry run: would import 1 people (1 new, 0 updated, 0 deactivated); 2 new teams."
    assert people(db) == {} and teams(db) == {}


def test_reimport_updates_people_and_deactivates_those_who_left(db: Database, slack: FakeSlack, directory: SlackDirectory) -> None:
    for user_id in ("UANA", "UBEN"):
        slack.add_user(user_id)
    run_import(db, directory, "user_id,team,manages\nUANA,Sales,Sales\nUBEN,Sales,\n")
    result = run_import(db, directory, "user_id,team,manages\nUANA,Finance,\n")
    assert (result.added, result.updated, result.deactivated) == (0, 1, 1)
    roster = people(db)
    assert roster["UBEN"].active is False  # kept, so past deliveries still mean something
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Manager)) == 0


def test_users_list_is_read_page_by_page(db: Database, slack: FakeSlack, directory: SlackDirectory) -> None:
    for number in range(450):
        slack.add_user(f"U{number:05d}X", email=f"p{number}@example.com")
    rows = "\n".join(f"p{number}@example.com,Ops" for number in range(0, 450, 7))
    result = run_import(db, directory, "email,team\n" + rows + "\n")
    assert result.people == len(range(0, 450, 7))
    assert len(slack.calls_to("users.list")) == 3


def test_import_survives_a_rate_limited_users_list(db: Database, slack: FakeSlack, directory: SlackDirectory) -> None:
    slack.add_user("UANA")
    slack.fail("users.list", status=429, retry_after=0)
    assert run_import(db, directory, "user_id,team\nUANA,Sales\n").added == 1


def test_slack_refusing_the_directory_is_one_clear_error(db: Database, slack: FakeSlack, directory: SlackDirectory) -> None:
    slack.fail("users.list", error="missing_scope")
    with pytest.raises(RosterError, match="missing_scope"):
        run_import(db, directory, "user_id,team\nUANA,Sales\n")


def test_sync_refreshes_time_zones_away_status_and_deactivations(
    db: Database, slack: FakeSlack, directory: SlackDirectory
) -> None:
    for user_id in ("UANA", "UBEN", "UCARLA"):
        slack.add_user(user_id, tz="Europe/Berlin")
    run_import(db, directory, "user_id,team\nUANA,Sales\nUBEN,Sales\nUCARLA,Sales\n")
    slack.add_user("UANA", tz="Asia/Tokyo")
    slack.add_user("UBEN", deleted=True)
    back = int(dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC).timestamp())
    slack.add_user("UCARLA", tz="Europe/Berlin", status_emoji=":palm_tree:", status_text="Vacationing", status_expiration=back)
    with freeze_time("2026-11-24 09:00"):
        result = sync_roster(db, directory, away=AWAY)
    assert result.summary() == "Synced 3 people with Slack: 2 updated, 1 deactivated."
    roster = people(db)
    assert roster["UANA"].tz == "Asia/Tokyo"
    assert roster["UBEN"].active is False
    assert roster["UCARLA"].away is True
    assert roster["UCARLA"].away_until == dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)


def test_vacation_status_marks_person_away_until_expiry(
    db: Database, slack: FakeSlack, directory: SlackDirectory
) -> None:
    back = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)
    slack.add_user("UANA", status_emoji=":palm_tree:", status_expiration=int(back.timestamp()))
    slack.add_user("UBEN", status_text="Vacation", status_expiration=int(back.timestamp()))
    with freeze_time("2026-11-24 09:00"):
        run_import(db, directory, "user_id,team\nUANA,Sales\nUBEN,Sales\n")
    assert (people(db)["UANA"].away, people(db)["UANA"].away_until) == (True, back)
    with freeze_time("2026-12-04 08:00"):  # Slack has not cleared the expired status yet
        sync_roster(db, directory, away=AWAY)
    assert [(p.away, p.away_until) for p in people(db).values()] == [(False, None), (False, None)]


@pytest.mark.parametrize(
    ("emoji", "text", "away"),
    [
        (":palm_tree:", "", True),
        (":face_with_thermometer:", "Out sick", True),
        ("", "OOO until Monday", True),
        ("", "On parental leave", True),
        (":spiral_calendar_pad:", "In a meeting", False),
        ("", "Sickle cell awareness week", False),
    ],
)
def test_away_statuses_are_recognised(
    db: Database, slack: FakeSlack, directory: SlackDirectory, emoji: str, text: str, away: bool
) -> None:
    slack.add_user("UANA", status_emoji=emoji, status_text=text)
    run_import(db, directory, "user_id,team\nUANA,Sales\n")
    assert people(db)["UANA"].away is away


def test_import_file_reads_utf8_with_bom_and_windows_line_endings(
    db: Database, slack: FakeSlack, directory: SlackDirectory, tmp_path: Path
) -> None:
    slack.add_user("UANA")
    path = tmp_path / "roster.csv"
    path.write_bytes("\ufeffuser_id,team,level\r\nUANA,Café,entry\r\n".encode())
    assert import_roster_file(db, path, directory, away=AWAY).added == 1
    assert "Café" in teams(db)


def test_import_file_problems_are_one_line(db: Database, directory: SlackDirectory, tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="no such file"):
        import_roster_file(db, tmp_path / "missing.csv", directory, away=AWAY)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("user_id,team\nUANA,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(RosterError, match="not UTF-8"):
        import_roster_file(db, latin, directory, away=AWAY)


def test_a_user_change_event_from_slack_marks_a_person_away(
    settings: Settings, db: Database, slack: FakeSlack, directory: SlackDirectory
) -> None:
    slack.add_user("UANA", tz="Europe/Berlin")
    run_import(db, directory, "user_id,team\nUANA,Sales\n")
    changed = slack.add_user("UANA", tz="Europe/Lisbon", status_emoji=":palm_tree:", status_text="Vacationing")
    with running_app(settings, db, slack) as app:
        assert app.requests.event({"type": "user_change", "user": changed}).status == 200
        assert app.requests.event({"type": "user_change", "user": {**changed, "id": "USTRANGER"}}).status == 200
        app.settle()
    roster = people(db)
    assert roster["UANA"].away is True and roster["UANA"].tz == "Europe/Lisbon"
    assert set(roster) == {"UANA"}  # an event never enrols anyone


def test_pulse_roster_import_on_the_command_line(
    database_url: str, db: Database, slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {"DATABASE_URL": database_url, "SLACK_API_URL": slack.url, "SLACK_BOT_TOKEN": BOT_TOKEN}.items():
        monkeypatch.setenv(name, value)
    slack.add_user("UANA", email="ana@example.com")
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("email,team,level,council\nana@example.com,Sales/EMEA,entry,no\n")
    bad.write_text("email,team\nana@example.com,Sales\nnobody@example.com,Sales\n")

    def pulse(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    assert pulse("roster", "import", str(good), "--dry-run") == (
        0, "Dry run: would import 1 people (1 new, 0 updated, 0 deactivated); 2 new teams.\n", "")
    assert people(db) == {}
    code, out, err = pulse("roster", "import", str(bad))
    assert code == 1
    assert err.splitlines() == ["line 3: Slack has no user nobody@example.com", "pulse: bad.csv has 1 error; nothing was imported"]
    code, out, _ = pulse("roster", "import", str(good))
    assert code == 0 and "Imported 1 people" in out
    code, out, _ = pulse("roster", "sync")
    assert code == 0 and out.startswith("Synced 1 people")
