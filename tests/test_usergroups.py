"""The roster from Slack user groups: `pulse roster sync` (and `--dry-run`), the daily job on the
clock, and the `team_join` / `user_change` events Slack sends the day someone joins or leaves.

Slack is the local Slack-compatible server; every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from freezegun import freeze_time
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.demo import MemoryMessenger
from bot.errors import SettingsError
from bot.models import Manager, Person, ReleasedFigure, Team, WeekRoster
from bot.release.service import final_at, released
from bot.settings import Settings, load_behaviour, load_settings
from bot.surveys.service import record_answer, run_pulse_job
from bot.weeks import UTC, IsoWeek
from tests.conftest import BOT_TOKEN, PSEUDONYM_KEY, make_settings
from tests.harness import RunningApp, running_app
from tests.slack_server import FakeSlack

LEVEL = "XfLEVEL001"
MAPPING: dict[str, Any] = {
    "source": "usergroups",
    "level_field": LEVEL,
    "teams": {
        "Sales": {"members": "sales", "managers": "sales-leads"},
        "Sales/EMEA": {"members": "@sales-emea", "managers": "sales-emea-leads"},
        "Finance": "finance",
    },
    "council": "ai-council",
}
PEOPLE = {  # user id: (name, time zone, level)
    "UANA": ("Ana Lima", "Europe/Berlin", "entry"),
    "UBEN": ("Ben Ode", "Europe/London", "lead"),
    "UCARLA": ("Carla Diaz", "America/New_York", "experienced"),
    "UDAN": ("Dan Roe", "Europe/Paris", "lead"),
    "UEVE": ("Eve Park", "Asia/Tokyo", ""),
    "UHAL": ("Hal Berg", "Europe/Berlin", "experienced"),
}
GROUPS = {
    "sales": ["UANA", "UBEN", "UDAN", "UHAL"],  # everyone in Sales, its EMEA team included
    "sales-emea": ["UANA", "UBEN", "UDAN"],
    "sales-leads": ["UDAN"],
    "sales-emea-leads": ["UBEN"],
    "finance": ["UCARLA", "UEVE", "UROBOT"],
    "ai-council": ["UCARLA"],
}

Pulse = Callable[..., tuple[int, list[str], list[str]]]


def write_behaviour(tmp_path: Path, roster: dict, name: str = "behaviour.yml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"roster": roster}), encoding="utf-8")
    return path


@pytest.fixture
def pulse(
    database_url: str, db: Database, slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Pulse:
    """Run `pulse …` as an operator would, with the mapping above; (exit code, stdout lines, stderr lines)."""
    environment = {
        "DATABASE_URL": database_url,
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "PULSE_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "PULSE_CONFIG": str(write_behaviour(tmp_path, MAPPING)),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> tuple[int, list[str], list[str]]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out.splitlines(), err.splitlines()

    return run


@pytest.fixture
def org(slack: FakeSlack) -> FakeSlack:
    """A workspace whose user groups hold a small company, with a level in everyone's profile."""
    for user_id, (name, tz, _) in PEOPLE.items():
        slack.add_user(user_id, real_name=name, tz=tz, email=f"{user_id.lower()}@example.com")
    slack.add_user("UROBOT", real_name="Expense Bot", is_bot=True)
    slack.add_user("UOTHER", real_name="Olga Other")  # in Slack, in no mapped group
    slack.add_profile_field("XfPHONE001", "Phone extension")
    slack.add_profile_field(LEVEL, "Level")
    for user_id, (_, _, level) in PEOPLE.items():
        slack.set_profile_field(user_id, LEVEL, level)
    for handle, members in GROUPS.items():
        slack.add_user_group(handle, members)
    slack.add_user_group("sales-old", ["UANA"], disabled=True)
    slack.add_user_group("everyone", [*PEOPLE, "UOTHER"])  # not mapped
    return slack


def roster(db: Database) -> dict[str, tuple[str, str | None, bool, bool, str]]:
    """Each person: (team, level, council, active, placed by)."""
    with db.session() as session:
        rows = session.execute(
            select(Person.slack_user_id, Team.path, Person.level, Person.is_council, Person.active, Person.roster_source)
            .join(Team, Team.id == Person.team_id)
        ).all()
    return {user_id: (team, level, council, active, source) for user_id, team, level, council, active, source in rows}


def managers(db: Database) -> list[tuple[str, str]]:
    with db.session() as session:
        return sorted(session.execute(
            select(Person.slack_user_id, Team.path)
            .join(Manager, Manager.person_id == Person.id)
            .join(Team, Team.id == Manager.team_id)
        ).all())


def teams(db: Database) -> dict[str, str | None]:
    with db.session() as session:
        rows = session.scalars(select(Team)).all()
        by_id = {t.id: t.path for t in rows}
        return {t.path: by_id.get(t.parent_id) if t.parent_id else None for t in rows}


FIRST_SYNC = [
    "Added 6: Ana Lima (UANA) to Sales/EMEA, Ben Ode (UBEN) to Sales/EMEA, Carla Diaz (UCARLA) to Finance, "
    "Dan Roe (UDAN) to Sales/EMEA, Eve Park (UEVE) to Finance, Hal Berg (UHAL) to Sales",
    "Joined the council 1: Carla Diaz (UCARLA)",
    "Managers changed 2: Ben Ode (UBEN) now manages Sales/EMEA, Dan Roe (UDAN) now manages Sales",
    "New teams 3: Finance, Sales, Sales/EMEA",
]


# ---------------------------------------------------------------- pulse roster sync


def test_dry_run_prints_what_the_sync_would_change_and_changes_nothing(pulse: Pulse, org: FakeSlack, db: Database) -> None:
    code, out, err = pulse("roster", "sync", "--dry-run")

    assert (code, err) == (0, [])
    assert out == ["Dry run, nothing was changed: 6 people in 6 mapped Slack user groups.", *FIRST_SYNC]
    assert roster(db) == {} and teams(db) == {}


def test_sync_places_people_in_the_teams_their_groups_name(pulse: Pulse, org: FakeSlack, db: Database) -> None:
    dry = pulse("roster", "sync", "--dry-run")[1]

    code, out, err = pulse("roster", "sync")

    assert (code, err) == (0, [])
    assert out == ["Synced 6 people in 6 mapped Slack user groups.", *FIRST_SYNC]
    assert out[1:] == dry[1:]  # the dry run printed exactly what happened
    assert roster(db) == {
        "UANA": ("Sales/EMEA", "entry", False, True, "usergroups"),  # in sales and sales-emea: the sub-team
        "UBEN": ("Sales/EMEA", "lead", False, True, "usergroups"),
        "UCARLA": ("Finance", "experienced", True, True, "usergroups"),
        "UDAN": ("Sales/EMEA", "lead", False, True, "usergroups"),
        "UEVE": ("Finance", None, False, True, "usergroups"),  # an empty profile field is no level
        "UHAL": ("Sales", "experienced", False, True, "usergroups"),
    }
    assert managers(db) == [("UBEN", "Sales/EMEA"), ("UDAN", "Sales")]
    assert teams(db) == {"Sales": None, "Sales/EMEA": "Sales", "Finance": None}
    with db.session() as session:
        assert session.scalars(select(Person.tz).where(Person.slack_user_id == "UCARLA")).one() == "America/New_York"


def test_sync_reads_each_group_once_and_each_placed_profile_once(pulse: Pulse, org: FakeSlack) -> None:
    pulse("roster", "sync")

    assert len(org.calls_to("usergroups.list")) == 1
    assert sorted(c.params["usergroup"] for c in org.calls_to("usergroups.users.list")) == sorted(
        gid for gid, g in org.user_groups.items() if g["handle"] in GROUPS
    )
    assert sorted(c.params["user"] for c in org.calls_to("users.profile.get")) == sorted(PEOPLE)
    assert len(org.calls_to("team.profile.get")) == 1


def test_a_later_sync_moves_deactivates_and_says_who(pulse: Pulse, org: FakeSlack, db: Database) -> None:
    pulse("roster", "sync")
    org.add_user("UFAY", real_name="Fay Ng", tz="Europe/Madrid")
    org.set_profile_field("UFAY", LEVEL, "entry")
    org.set_group_members("sales", ["UBEN", "UDAN", "UHAL"])
    org.set_group_members("sales-emea", ["UBEN", "UDAN"])
    org.set_group_members("finance", ["UANA", "UCARLA", "UFAY"])  # Ana moves, Eve left, Fay is new
    org.set_group_members("ai-council", ["UANA"])
    org.set_group_members("sales-emea-leads", ["UDAN"])
    org.set_profile_field("UCARLA", LEVEL, "lead")
    org.add_user("UDAN", real_name="Dan Roe", tz="America/Chicago", email="udan@example.com")

    code, out, _ = pulse("roster", "sync")

    assert code == 0
    assert out == [
        "Synced 6 people in 6 mapped Slack user groups.",
        "Added 1: Fay Ng (UFAY) to Finance",
        "Moved 1: Ana Lima (UANA) Sales/EMEA → Finance",
        "Deactivated 1: Eve Park (UEVE)",
        "Level changed 1: Carla Diaz (UCARLA) experienced → lead",
        "Joined the council 1: Ana Lima (UANA)",
        "Left the council 1: Carla Diaz (UCARLA)",
        "Managers changed 2: Ben Ode (UBEN) no longer manages Sales/EMEA, Dan Roe (UDAN) now manages Sales/EMEA",
        "Time zone or away status updated 1",
    ]
    people = roster(db)
    assert people["UANA"][:3] == ("Finance", "entry", True)
    assert people["UEVE"][3] is False  # kept, so past weeks still mean something
    assert managers(db) == [("UDAN", "Sales"), ("UDAN", "Sales/EMEA")]

    assert pulse("roster", "sync")[1] == ["Synced 6 people in 6 mapped Slack user groups.", "No changes."]


def test_someone_back_in_a_group_is_enrolled_again(pulse: Pulse, org: FakeSlack, db: Database) -> None:
    pulse("roster", "sync")
    org.set_group_members("finance", ["UCARLA", "UROBOT"])
    pulse("roster", "sync")
    org.set_group_members("finance", ["UCARLA", "UEVE"])

    out = pulse("roster", "sync")[1]

    assert "Added 1: Eve Park (UEVE) to Finance" in out
    assert roster(db)["UEVE"][3] is True


def test_a_deactivated_slack_account_leaves_the_roster_at_the_next_sync(pulse: Pulse, org: FakeSlack, db: Database) -> None:
    pulse("roster", "sync")
    org.add_user("UHAL", real_name="Hal Berg", deleted=True)  # Slack keeps them in the group for now

    out = pulse("roster", "sync")[1]

    assert out[:2] == ["Synced 5 people in 6 mapped Slack user groups.", "Deactivated 1: Hal Berg (UHAL)"]
    assert roster(db)["UHAL"][3] is False


def test_an_unknown_or_disabled_handle_refuses_the_whole_sync(
    pulse: Pulse, org: FakeSlack, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pulse("roster", "sync")
    before = roster(db)
    teams_mapped = {**MAPPING["teams"], "Legal": "legal", "Sales/EMEA": {"members": ["sales-emea", "sales-old"]}}
    bad = write_behaviour(tmp_path, {**MAPPING, "teams": teams_mapped}, "bad.yml")
    monkeypatch.setenv("PULSE_CONFIG", str(bad))

    for args in (("roster", "sync", "--dry-run"), ("roster", "sync")):
        code, out, err = pulse(*args)
        assert (code, out) == (1, [])
        assert err == [
            "@legal (members of Legal): Slack has no user group with this handle",
            "@sales-old (members of Sales/EMEA): this user group is disabled in Slack",
            "pulse: the user-group mapping has 2 problems; nothing was changed",
        ]
    # Going ahead would have deactivated everyone in the groups it could not read.
    assert roster(db) == before


def test_a_level_field_the_workspace_lacks_refuses_the_sync(
    pulse: Pulse, org: FakeSlack, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_CONFIG", str(write_behaviour(tmp_path, {**MAPPING, "level_field": "XfNOSUCH1"}, "bad.yml")))

    code, out, err = pulse("roster", "sync")

    assert code == 1 and out == []
    assert err == [
        "level_field XfNOSUCH1: this workspace has no profile field with that id",
        "pulse: the user-group mapping has 1 problem; nothing was changed",
    ]
    assert roster(db) == {}


def test_a_person_the_groups_contradict_is_reported_and_left_as_they_were(
    pulse: Pulse, org: FakeSlack, db: Database
) -> None:
    org.add_user("UGIL", real_name="Gil Ito")
    org.set_group_members("finance", ["UCARLA", "UEVE", "UGIL"])
    pulse("roster", "sync")
    org.set_group_members("sales-emea", ["UANA", "UBEN", "UDAN", "UGIL"])  # now also in Sales/EMEA
    org.set_group_members("ai-council", ["UCARLA", "UOTHER"])  # on the council, in no team
    org.set_group_members("finance", ["UCARLA", "UGIL"])  # Eve leaves: the rest still syncs

    code, out, _ = pulse("roster", "sync")

    assert code == 0
    assert out == [
        "Synced 5 people in 6 mapped Slack user groups.",
        "Deactivated 1: Eve Park (UEVE)",
        "Not synced: Gil Ito (UGIL) is in @finance (Finance) and @sales-emea (Sales/EMEA), "
        "teams where neither contains the other; left as they were",
        "Not synced: Olga Other (UOTHER) is in @ai-council (the council) "
        "but in no mapped team's members group; left as they were",
    ]
    people = roster(db)
    assert people["UGIL"] == ("Finance", None, False, True, "usergroups")  # not moved, not deactivated
    assert "UOTHER" not in people


def test_slack_refusing_the_user_groups_is_one_clear_line(pulse: Pulse, org: FakeSlack, db: Database) -> None:
    org.fail("usergroups.list", error="missing_scope")

    code, out, err = pulse("roster", "sync")

    assert (code, out) == (1, [])
    assert err == [
        "pulse: Slack refused usergroups.list: missing_scope (add the scope to the app (manifest.yml) and reinstall it)"
    ]
    assert roster(db) == {}


def test_a_large_company_is_read_page_by_page(pulse: Pulse, slack: FakeSlack, db: Database, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    staff = [f"U{n:05d}X" for n in range(450)]
    for user_id in staff:
        slack.add_user(user_id, real_name=f"Person {user_id}")
    slack.add_user_group("ops", staff[:300])
    slack.add_user_group("support", staff[300:])
    mapping = {"source": "usergroups", "teams": {"Ops": "ops", "Ops/Support": "support"}}
    monkeypatch.setenv("PULSE_CONFIG", str(write_behaviour(tmp_path, mapping, "large.yml")))

    code, out, _ = pulse("roster", "sync")

    assert code == 0
    assert out[0] == "Synced 450 people in 2 mapped Slack user groups."
    # Twenty names, then how many were left out of the line.
    assert out[1].startswith("Added 450: Person U00000X (U00000X) to Ops, ") and out[1].endswith(" … and 430 more")
    assert len(slack.calls_to("users.list")) == 3  # 200 a page
    assert slack.calls_to("users.profile.get") == []  # no level field mapped, no profile read
    assert sum(1 for _, (team, *_rest) in roster(db).items() if team == "Ops/Support") == 150


# ---------------------------------------------------------------- with the CSV


def test_with_the_csv_preferred_people_it_lists_keep_their_csv_team(
    pulse: Pulse, org: FakeSlack, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_CONFIG", str(write_behaviour(tmp_path, {**MAPPING, "source": "csv"}, "mixed.yml")))
    csv = tmp_path / "roster.csv"
    csv.write_text("user_id,team,level,council\nUANA,Ops,experienced,no\nUOTHER,Ops,entry,no\n")
    assert pulse("roster", "import", str(csv))[0] == 0

    out = pulse("roster", "sync")[1]

    assert "Kept as the CSV places them 1: Ana Lima (UANA)" in out
    assert roster(db)["UANA"] == ("Ops", "experienced", False, True, "csv")
    assert roster(db)["UBEN"] == ("Sales/EMEA", "lead", False, True, "usergroups")
    # A later import deactivates the people it placed and does not list (Olga), nobody the groups placed.
    csv.write_text("user_id,team\nUANA,Ops\n")
    assert pulse("roster", "import", str(csv))[1] == ["Imported 1 people (0 new, 1 updated, 1 deactivated); 0 new teams."]
    assert [uid for uid, person in roster(db).items() if not person[3]] == ["UOTHER"]


def test_with_user_groups_preferred_a_csv_row_leaves_a_group_member_alone(
    pulse: Pulse, org: FakeSlack, db: Database, tmp_path: Path
) -> None:
    csv = tmp_path / "roster.csv"
    csv.write_text("user_id,team,manages,level\nUANA,Ops,Ops,experienced\nUOTHER,Ops,,entry\n")
    pulse("roster", "import", str(csv))

    out = pulse("roster", "sync")[1]

    assert "Now placed by user groups instead of the CSV 1: Ana Lima (UANA)" in out
    assert "Moved 1: Ana Lima (UANA) Ops → Sales/EMEA" in out
    assert "Managers changed 3: Ana Lima (UANA) no longer manages Ops, Ben Ode (UBEN) now manages Sales/EMEA, " \
           "Dan Roe (UDAN) now manages Sales" in out
    assert roster(db)["UANA"] == ("Sales/EMEA", "entry", False, True, "usergroups")
    code, out, _ = pulse("roster", "import", str(csv))
    assert out == ["Imported 1 people (0 new, 1 updated, 0 deactivated); 0 new teams; "
                   "1 more follow their Slack user groups and were left as they are."]
    assert roster(db)["UANA"][0] == "Sales/EMEA" and roster(db)["UOTHER"][4] == "csv"


# ---------------------------------------------------------------- confidentiality


W48, W49, W50 = IsoWeek.parse("2026-W48"), IsoWeek.parse("2026-W49"), IsoWeek.parse("2026-W50")


def _wednesday(week: IsoWeek) -> dt.datetime:
    return dt.datetime.combine(week.day(3), dt.time(12, 0), tzinfo=UTC)


def _open_round(db: Database, week: IsoWeek) -> int:
    run_pulse_job(db, MemoryMessenger(), load_behaviour(None), at=_wednesday(week), force=True, week=week)
    with db.session() as session:
        from bot.models import PulseRound

        return session.scalars(select(PulseRound.id).where(PulseRound.week == str(week))).one()


def _snapshot(db: Database, week: IsoWeek) -> dict[int, str]:
    with db.session() as session:
        return dict(session.execute(select(WeekRoster.person_id, WeekRoster.team_path).where(WeekRoster.week == str(week))).all())


def _figures(db: Database) -> list[tuple]:
    with db.session() as session:
        return sorted(session.execute(select(ReleasedFigure.week, ReleasedFigure.measure, ReleasedFigure.scope,
                                             ReleasedFigure.label, ReleasedFigure.people, ReleasedFigure.total)).all())


def test_a_move_shows_from_the_next_weeks_snapshot_and_released_weeks_stay(
    pulse: Pulse, slack: FakeSlack, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sales, finance = [f"US{n}" for n in range(6)], [f"UF{n}" for n in range(6)]
    for user_id in (*sales, *finance):
        slack.add_user(user_id, real_name=user_id)
    slack.add_user_group("sales", sales)
    slack.add_user_group("finance", finance)
    monkeypatch.setenv("PULSE_CONFIG", str(write_behaviour(
        tmp_path, {"source": "usergroups", "teams": {"Sales": "sales", "Finance": "finance"}}, "two.yml")))
    pulse("roster", "sync")
    round_48 = _open_round(db, W48)
    for user_id in (*sales, *finance):
        record_answer(db, PSEUDONYM_KEY.encode(), user_id, round_48, "capability", 4, at=_wednesday(W48))
    released(db, PSEUDONYM_KEY.encode(), [W48], 5, at=final_at("2026-W48"))
    figures_48 = _figures(db)
    assert ("2026-W48", "participation", "team", "Sales", 6, 6) in figures_48
    _open_round(db, W49)
    before_48, before_49 = _snapshot(db, W48), _snapshot(db, W49)

    slack.set_group_members("sales", sales[1:])
    slack.set_group_members("finance", [*finance, sales[0]])
    assert "Moved 1: US0 (US0) Sales → Finance" in pulse("roster", "sync")[1]

    assert _figures(db) == figures_48  # the released week is as it was
    assert _snapshot(db, W48) == before_48 and _snapshot(db, W49) == before_49  # the open week too
    _open_round(db, W50)
    assert sorted(_snapshot(db, W50).values()).count("Finance") == 7  # the move counts from next week


# ---------------------------------------------------------------- on the clock


def test_the_clock_syncs_once_a_day_from_the_sync_time(pulse: Pulse, org: FakeSlack, db: Database) -> None:
    with freeze_time("2026-11-24 04:59"):
        assert pulse("jobs", "run", "roster")[1] == ["roster: not due yet today"]
    assert roster(db) == {}
    with freeze_time("2026-11-24 05:00"):
        code, out, _ = pulse("jobs", "run", "roster")
    assert code == 0
    assert out == ["roster synced: 6 people in 6 groups; added 6, joined the council 1, managers changed 2, new teams 3"]
    org.set_group_members("finance", ["UCARLA"])
    with freeze_time("2026-11-24 17:00"):
        assert pulse("jobs", "run", "roster")[1] == ["roster: already synced today"]
    assert roster(db)["UEVE"][3] is True
    with freeze_time("2026-11-25 05:05"):
        assert pulse("jobs", "run", "roster")[1] == ["roster synced: 5 people in 6 groups; deactivated 1"]
    assert roster(db)["UEVE"][3] is False


def test_a_failed_daily_sync_is_tried_again_an_hour_later(pulse: Pulse, org: FakeSlack, db: Database) -> None:
    org.fail("usergroups.users.list", error="fatal_error")
    with freeze_time("2026-11-24 05:00"):
        # A failed job exits 1, its line on stderr, so a monitor notices.
        assert pulse("jobs", "run", "roster") == (1, [], [
            "pulse: roster: failed, to be tried again in an hour: Slack refused usergroups.users.list: fatal_error"
        ])
    with freeze_time("2026-11-24 05:30"):
        assert pulse("jobs", "run", "roster")[1] == ["roster: today's sync failed; tried again from 06:00 UTC"]
    assert roster(db) == {}
    with freeze_time("2026-11-24 06:00"):
        assert pulse("jobs", "run", "roster")[1][0].startswith("roster synced: 6 people")
    assert len(roster(db)) == 6


def test_a_refused_daily_sync_waits_for_the_mapping_to_be_fixed(
    pulse: Pulse, org: FakeSlack, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("PULSE_CONFIG", str(write_behaviour(tmp_path, {**MAPPING, "council": "councill"}, "typo.yml")))
    with freeze_time("2026-11-24 05:00"), caplog.at_level(logging.WARNING, logger="bot.roster.daily"):
        assert pulse("jobs", "run", "roster") == (1, [], [
            "pulse: roster: refused: the user-group mapping has 1 problem; nothing was changed"
        ])
    assert "@councill (the council): Slack has no user group with this handle" in caplog.text
    with freeze_time("2026-11-24 09:00"):
        assert pulse("jobs", "run", "roster")[1] == [
            "roster: refused today (the user-group mapping does not match Slack); fix it and run `pulse roster sync`"
        ]
    assert roster(db) == {}


def test_without_user_groups_the_clock_refreshes_the_csv_roster_from_slack(
    pulse: Pulse, org: FakeSlack, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSE_CONFIG", str(write_behaviour(tmp_path, {}, "csv.yml")))
    csv = tmp_path / "roster.csv"
    csv.write_text("user_id,team\nUANA,Ops\nUBEN,Ops\n")
    pulse("roster", "import", str(csv))
    org.add_user("UBEN", real_name="Ben Ode", deleted=True)

    assert pulse("roster", "sync", "--dry-run")[1] == ["Dry run: would sync 2 people with Slack: 0 updated, 1 deactivated."]
    assert roster(db)["UBEN"][3] is True
    with freeze_time("2026-11-24 06:00"):
        assert pulse("jobs", "run", "roster")[1] == ["roster: Synced 2 people with Slack: 0 updated, 1 deactivated."]
    assert roster(db)["UBEN"][3] is False
    assert org.calls_to("usergroups.list") == []


# ---------------------------------------------------------------- the behaviour file


def _behaviour_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, roster_section: object) -> str:
    path = tmp_path / "behaviour.yml"
    path.write_text(yaml.safe_dump({"roster": roster_section}), encoding="utf-8")
    monkeypatch.setenv("PULSE_CONFIG", str(path))
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None)
    return str(error.value).split(": ", 1)[1]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"source": "groups"}, "roster.source: Input should be 'csv' or 'usergroups'"),
        ({"source": "usergroups"}, "roster: source usergroups needs at least one team under teams"),
        ({"teams": {"Sales": {"member": "sales"}}}, "roster.teams.Sales.member: unknown key"),
        ({"teams": {"Sales": {}}}, "roster.teams.Sales: name the team's members or managers user group"),
        ({"teams": {"Sales//EMEA": "sales"}}, "roster.teams: team 'Sales//EMEA' is not a team path such as Sales/EMEA"),
        ({"teams": {"Sales": "sales team"}}, "roster.teams.Sales.members: 'sales team' is not a user-group handle such as sales-emea"),
        ({"teams": {"Sales": "sales", "Finance": "@Sales"}}, "roster: @sales is the members group of both Finance and Sales"),
        ({"teams": {"Sales": "sales"}, "level_field": "level"}, "roster.level_field: 'level' is not a Slack profile field id such as Xf0123ABCD"),
        ({"council": "ai-council"}, "roster: council and level_field come from user groups: map at least one team under teams"),
        ({"teams": {"Sales": "sales"}, "colour": "red"}, "roster.colour: unknown key"),
    ],
)
def test_a_bad_mapping_stops_start_up_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, section: object, message: str
) -> None:
    assert _behaviour_error(tmp_path, monkeypatch, section) == message


def test_handles_are_written_with_or_without_the_at_sign() -> None:
    from bot.settings import RosterSettings

    mapping = RosterSettings.model_validate({"teams": {" Sales / EMEA ": {"members": ["@Sales-EMEA", "sales-emea"]}}})
    assert mapping.teams["Sales/EMEA"].members == ("sales-emea",)
    assert mapping.source == "csv" and mapping.from_usergroups


# ---------------------------------------------------------------- Slack's events, the same day


def _app(database_url: str, db: Database, slack: FakeSlack, config: Path) -> Iterator[RunningApp]:
    settings: Settings = make_settings(database_url=database_url, slack_api_url=slack.url, pulse_config=config)
    with running_app(settings, db, slack) as running:
        yield running


@pytest.fixture
def app(database_url: str, db: Database, org: FakeSlack, tmp_path: Path) -> Iterator[RunningApp]:
    yield from _app(database_url, db, org, write_behaviour(tmp_path, MAPPING))


@pytest.fixture
def csv_app(database_url: str, db: Database, org: FakeSlack, tmp_path: Path) -> Iterator[RunningApp]:
    yield from _app(database_url, db, org, write_behaviour(tmp_path, {}))


def _pulse_dms(slack: FakeSlack) -> list[str]:
    return sorted(call.params["channel"] for call in slack.calls_to("chat.postMessage"))


def test_a_new_hire_in_a_mapped_group_is_enrolled_the_day_they_join(
    app: RunningApp, org: FakeSlack, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    joined = org.add_user("UNEW", real_name="Nia Ekwe", tz="Europe/Berlin", email="nia@example.com")
    org.set_profile_field("UNEW", LEVEL, "entry")
    org.set_group_members("sales-emea", [*GROUPS["sales-emea"], "UNEW"])

    with caplog.at_level(logging.INFO, logger="bot.slack.roster"):
        assert app.requests.event({"type": "team_join", "user": joined}).status == 200
        app.settle()

    assert roster(db) == {"UNEW": ("Sales/EMEA", "entry", False, True, "usergroups")}  # nobody else is touched
    assert "roster.team_join user=UNEW added to Sales/EMEA" in caplog.text
    with freeze_time("2026-11-24 09:00"):  # Tuesday 10:00 in Berlin: their first pulse arrives
        run_pulse_job(app.db, app.services.messenger, app.services.behaviour)
    assert _pulse_dms(org) == ["UNEW"]


def test_a_new_hire_in_no_mapped_group_waits_for_the_daily_sync(
    app: RunningApp, org: FakeSlack, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    joined = org.add_user("UNEW", real_name="Nia Ekwe")
    org.set_group_members("ai-council", ["UCARLA", "UNEW"])  # a role, but no team

    with caplog.at_level(logging.INFO, logger="bot.slack.roster"):
        app.requests.event({"type": "team_join", "user": joined})
        app.requests.event({"type": "team_join", "user": org.add_user("UGUEST", real_name="Gus Guest")})
        app.settle()

    assert roster(db) == {}
    assert "roster.team_join user=UNEW not recorded: Nia Ekwe (UNEW) is in @ai-council (the council) but in no " \
           "mapped team's members group; left as they were" in caplog.text
    assert "roster.team_join user=UGUEST not recorded: in no mapped user group yet" in caplog.text


def test_with_the_csv_roster_a_new_hire_is_logged_and_not_recorded(
    csv_app: RunningApp, org: FakeSlack, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    joined = org.add_user("UNEW", real_name="Nia Ekwe")

    with caplog.at_level(logging.INFO, logger="bot.slack.roster"):
        assert csv_app.requests.event({"type": "team_join", "user": joined}).status == 200
        csv_app.settle()

    assert roster(db) == {}
    assert "roster.team_join user=UNEW not recorded: the roster comes from the CSV" in caplog.text
    assert org.calls_to("usergroups.list") == []


def test_a_new_hire_event_is_acknowledged_before_slack_is_read(app: RunningApp, org: FakeSlack, db: Database) -> None:
    joined = org.add_user("UNEW", real_name="Nia Ekwe")
    org.set_group_members("finance", ["UCARLA", "UNEW"])
    org.slow("usergroups.list", 2.0)

    started = dt.datetime.now()
    assert app.requests.event({"type": "team_join", "user": joined}).status == 200
    assert dt.datetime.now() - started < dt.timedelta(seconds=1.5)
    app.settle()
    assert roster(db)["UNEW"][0] == "Finance"


@pytest.mark.parametrize("fixture", ["app", "csv_app"])
def test_a_deactivated_account_leaves_the_roster_the_same_day(
    request: pytest.FixtureRequest, fixture: str, org: FakeSlack, db: Database, pulse: Pulse, tmp_path: Path
) -> None:
    running: RunningApp = request.getfixturevalue(fixture)
    if fixture == "csv_app":
        (tmp_path / "roster.csv").write_text("user_id,team\nUANA,Ops\nUBEN,Ops\n")
        pulse("roster", "import", str(tmp_path / "roster.csv"))
    else:
        pulse("roster", "sync")
    gone = org.add_user("UBEN", real_name="Ben Ode", deleted=True)

    assert running.requests.event({"type": "user_change", "user": gone}).status == 200
    running.settle()

    assert roster(db)["UBEN"][3] is False
    with freeze_time("2026-11-24 10:00"):  # Tuesday: everyone else's pulse goes out
        run_pulse_job(running.db, running.services.messenger, running.services.behaviour)
    assert "UBEN" not in _pulse_dms(org) and "UANA" in _pulse_dms(org)


def test_an_app_made_from_the_manifest_can_read_user_groups_and_hears_of_new_hires() -> None:
    manifest = yaml.safe_load((Path(__file__).resolve().parent.parent / "manifest.yml").read_text(encoding="utf-8"))
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"usergroups:read", "users:read", "users.profile:read"} <= set(scopes)
    assert {"team_join", "user_change"} <= set(events)
