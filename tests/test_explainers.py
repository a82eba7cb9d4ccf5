"""Explainers: the content library, who gets which one and when, feedback, questions, digest figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from freezegun import freeze_time
from sqlalchemy import func, select, update

from bot.cli import main
from bot.db import Database
from bot.errors import SettingsError
from bot.explainers import service
from bot.explainers.library import BODY_MAX_CHARS, Library, load_library
from bot.explainers.service import (
    ExplainerRun,
    Reader,
    next_explainer,
    run_explainer_job,
)
from bot.models import (
    ExplainerDelivery,
    ExplainerFeedback,
    ExplainerQuestion,
    Person,
    Rollout,
    RolloutTeam,
)
from bot.release.service import explainer_totals, final_at, release_due
from bot.settings import Settings, Weekday, load_settings
from bot.slack.app import Services, make_services
from bot.slack.messenger import DELIVERY_ATTEMPTS
from bot.surveys.service import pause, resume
from bot.weeks import UTC, IsoWeek
from tests import factories, stored
from tests.conftest import PSEUDONYM_KEY, make_settings
from tests.slack_server import FakeSlack

TOKYO, BERLIN, LOS_ANGELES = "Asia/Tokyo", "Europe/Berlin", "America/Los_Angeles"
GO_LIVE = "2026-11-23"  # Monday of 2026-W48
THURSDAY = "2026-11-26"  # explainer day of the go-live week
KEY = PSEUDONYM_KEY.encode()
SHIPPED = load_library()


# ---------------------------------------------------------------- helpers


def rollout(db: Database, name: str, go_live: str, teams: list[str]) -> int:
    team_ids = [factories.team(db, path) for path in teams]
    with db.session() as session:
        row = Rollout(name=name, go_live=dt.date.fromisoformat(go_live), created_at=dt.datetime(2026, 1, 1, tzinfo=UTC))
        session.add(row)
        session.flush()
        session.add_all(RolloutTeam(rollout_id=row.id, team_id=team_id) for team_id in team_ids)
        return row.id


def write_explainer(folder: Path, name: str, front: dict[str, Any] | str, body: str = "Some plain words.") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    head = front if isinstance(front, str) else yaml.safe_dump(front, sort_keys=False)
    path = folder / name
    path.write_text(f"---\n{head}---\n{body}\n", encoding="utf-8")
    return path


def library_of(folder: Path, *fronts: dict[str, Any]) -> Library:
    for front in fronts:
        write_explainer(folder, f"{front['key']}.md", front)
    return load_library(content_dir=folder)


def library_error(folder: Path) -> str:
    with pytest.raises(SettingsError) as error:
        load_library(content_dir=folder)
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.fixture
def services(settings: Settings, db: Database) -> Services:
    return make_services(settings, db)


def tick(services: Services, when: str, library: Library = SHIPPED, **kwargs: Any) -> ExplainerRun:
    with freeze_time(when):
        return run_explainer_job(services.db, services.messenger, services.behaviour, library, **kwargs)


def received(slack: FakeSlack) -> list[tuple[str, str]]:
    """(recipient, explainer key) for every explainer DM, in the order sent."""
    return [
        (call.params["channel"], call.params["metadata"]["event_payload"]["explainer"])
        for call in slack.calls_to("chat.postMessage")
    ]


def recipients(slack: FakeSlack) -> list[str]:
    return [user for user, _ in received(slack)]


# ---------------------------------------------------------------- the library


def test_the_shipped_library_loads_with_real_explainers_for_every_stage() -> None:
    assert len(SHIPPED) >= 6
    offsets = {e.week_offset for e in SHIPPED}
    assert {0, 1, 2, 3, 4, 6} <= offsets
    assert any("entry" in e.audience.levels for e in SHIPPED)
    for explainer in SHIPPED:
        words = len(explainer.body.split())
        assert 150 <= words <= 350, f"{explainer.key} has {words} words"
        assert len(explainer.body) <= BODY_MAX_CHARS


def test_the_shipped_library_is_validated_at_start_up() -> None:
    assert load_settings(_env_file=None).explainers.keys == SHIPPED.keys


def test_explainers_are_read_in_order_of_week_offset_then_key_with_timeless_ones_last(tmp_path: Path) -> None:
    library = library_of(
        tmp_path,
        {"key": "b-later", "title": "B", "week_offset": 2},
        {"key": "anytime", "title": "A"},
        {"key": "z-first", "title": "Z", "week_offset": 0},
        {"key": "a-later", "title": "A2", "week_offset": 2},
    )
    assert library.keys == ["z-first", "a-later", "b-later", "anytime"]


@pytest.mark.parametrize(
    ("front", "field"),
    [
        ({"key": "Not Valid", "title": "T"}, "key"),
        ({"key": "ok", "title": "T" * 151}, "title"),
        ({"key": "ok", "title": "T", "week_offset": -1}, "week_offset"),
        ({"key": "ok", "title": "T", "audience": {"teams": ["Sales//EMEA"]}}, "audience.teams"),
        ({"key": "ok", "title": "T", "audience": {"grades": ["x"]}}, "audience.grades: unknown key"),
        ({"key": "ok", "title": "T", "colour": "red"}, "colour: unknown key"),
        ({"title": "T"}, "key: missing"),
        ("key: [unclosed\n", "front matter: not valid YAML"),
        ("just a sentence\n", "front matter"),
    ],
)
def test_bad_front_matter_stops_start_up_with_one_line_naming_the_file_and_field(
    tmp_path: Path, front: dict[str, Any] | str, field: str
) -> None:
    path = write_explainer(tmp_path, "broken.md", front)
    message = library_error(tmp_path)
    assert str(path) in message and field in message


def test_a_file_without_front_matter_is_refused(tmp_path: Path) -> None:
    (tmp_path / "plain.md").write_text("# Just Markdown\nNo front matter.\n", encoding="utf-8")
    message = library_error(tmp_path)
    assert "plain.md" in message and "must start with a '---' line" in message


def test_a_body_too_long_for_one_message_names_the_file(tmp_path: Path) -> None:
    path = write_explainer(tmp_path, "long.md", {"key": "long", "title": "Long"}, body="word " * 600)
    message = library_error(tmp_path)
    assert str(path) in message and "body" in message and str(BODY_MAX_CHARS) in message


def test_an_explainer_without_a_body_names_the_file(tmp_path: Path) -> None:
    path = write_explainer(tmp_path, "empty.md", {"key": "empty", "title": "Empty"}, body="   ")
    assert f"{path}: body" in library_error(tmp_path)


def test_a_duplicate_key_names_both_files(tmp_path: Path) -> None:
    first = write_explainer(tmp_path, "a.md", {"key": "same", "title": "One"})
    second = write_explainer(tmp_path, "b.md", {"key": "same", "title": "Two"})
    message = library_error(tmp_path)
    assert str(second) in message and str(first) in message and "key" in message


def test_an_admins_folder_extends_the_shipped_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_explainer(tmp_path / "ours", "local.md", {"key": "our-forecast-tool", "title": "Our forecast tool"})
    config = tmp_path / "behaviour.yml"
    config.write_text("explainers_dir: ours\n", encoding="utf-8")  # relative to the behaviour file
    monkeypatch.setenv("PULSE_CONFIG", str(config))
    monkeypatch.chdir(tmp_path.parent)
    library = load_settings(_env_file=None).explainers
    assert library.get("our-forecast-tool") is not None
    assert set(SHIPPED.keys) < set(library.keys)


def test_an_admins_explainer_may_not_reuse_a_shipped_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_explainer(tmp_path / "ours", "mine.md", {"key": "what-changes-at-go-live", "title": "Mine"})
    config = tmp_path / "behaviour.yml"
    config.write_text(f"explainers_dir: {tmp_path / 'ours'}\n", encoding="utf-8")
    monkeypatch.setenv("PULSE_CONFIG", str(config))
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None)
    assert "mine.md: key: 'what-changes-at-go-live' is already used by" in str(error.value)


def test_a_missing_explainers_folder_names_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "behaviour.yml"
    config.write_text("explainers_dir: /no/such/folder\n", encoding="utf-8")
    monkeypatch.setenv("PULSE_CONFIG", str(config))
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None)
    assert str(error.value) == f"PULSE_CONFIG ({config}): explainers_dir: folder not found: /no/such/folder"


def test_explainer_schedule_defaults_to_thursday_ten_and_is_validated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schedule = load_settings(_env_file=None).behaviour.schedule
    assert (schedule.explainer_day, schedule.explainer_time) == (Weekday.thursday, dt.time(10, 0))
    config = tmp_path / "behaviour.yml"
    monkeypatch.setenv("PULSE_CONFIG", str(config))
    for text, named in [
        ("schedule:\n  explainer_day: sunday\n", "explainer_day sunday is not one of the workdays"),
        ("schedule:\n  explainer_time: 25:00\n", "schedule.explainer_time"),
        ("schedule:\n  explainer_time: \"19:00\"\n", "later in the day than explainer_time"),
    ]:
        config.write_text(text, encoding="utf-8")
        with pytest.raises(SettingsError) as error:
            load_settings(_env_file=None)
        assert named in str(error.value)


def test_a_broken_library_stops_the_cli_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_explainer(tmp_path / "ours", "bad.md", {"key": "bad", "title": "T" * 200})
    config = tmp_path / "behaviour.yml"
    config.write_text(f"explainers_dir: {tmp_path / 'ours'}\n", encoding="utf-8")
    monkeypatch.setenv("PULSE_CONFIG", str(config))
    with pytest.raises(SystemExit) as exit_info:
        main(["jobs", "run", "explainers"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1
    assert err.count("\n") == 1 and str(path) in err and "title" in err and "Traceback" not in err


# ---------------------------------------------------------------- who fits which explainer


@pytest.fixture
def targeted(tmp_path: Path) -> Library:
    return library_of(
        tmp_path,
        {"key": "go-live", "title": "Go-live", "week_offset": 0},
        {"key": "sales-week-one", "title": "Sales", "week_offset": 1, "audience": {"teams": ["Sales"]}},
        {"key": "entry-week-one", "title": "Entry", "week_offset": 1, "audience": {"levels": ["Entry"]}},
        {"key": "forecast-only", "title": "Forecast", "week_offset": 1, "audience": {"rollouts": ["Forecast"]}},
        {"key": "anytime", "title": "Anytime"},
        {"key": "leads-anytime", "title": "Leads", "audience": {"levels": "lead"}},
    )


def next_key(library: Library, team: str, level: str | None, rollouts: dict[str, int], seen: frozenset[str] = frozenset()) -> str | None:
    explainer = next_explainer(library, Reader(team, level, rollouts, seen))
    return explainer.key if explainer else None


def test_timed_explainers_wait_for_their_week_since_go_live(targeted: Library) -> None:
    assert next_key(targeted, "Legal", None, {"Chat": -1}) == "anytime"  # before go-live
    assert next_key(targeted, "Legal", None, {"Chat": 0}) == "go-live"
    assert next_key(targeted, "Legal", None, {"Chat": 0}, frozenset({"go-live"})) == "anytime"


def test_timed_explainers_only_reach_people_a_rollout_covers(targeted: Library) -> None:
    assert next_key(targeted, "Legal", None, {}) == "anytime"
    assert next_key(targeted, "Legal", None, {}, frozenset({"anytime"})) is None


def test_a_team_audience_includes_its_sub_teams_only(targeted: Library) -> None:
    seen = frozenset({"go-live"})
    assert next_key(targeted, "Sales/EMEA", None, {"Chat": 1}, seen) == "sales-week-one"
    assert next_key(targeted, "Sales", None, {"Chat": 1}, seen) == "sales-week-one"
    assert next_key(targeted, "Salesforce", None, {"Chat": 1}, seen) == "anytime"


def test_a_level_audience_matches_whatever_the_case(targeted: Library) -> None:
    seen = frozenset({"go-live"})
    assert next_key(targeted, "Legal", "entry", {"Chat": 1}, seen) == "entry-week-one"
    assert next_key(targeted, "Legal", None, {"Chat": 1}, seen) == "anytime"
    assert next_key(targeted, "Legal", "Lead", {}, frozenset({"anytime"})) == "leads-anytime"


def test_a_rollout_audience_counts_weeks_from_that_rollout(targeted: Library) -> None:
    seen = frozenset({"go-live"})
    assert next_key(targeted, "Legal", None, {"Forecast": 1}, seen) == "forecast-only"
    # Another rollout being a week in does not make the Forecast explainer due.
    assert next_key(targeted, "Legal", None, {"Forecast": 0, "Chat": 3}, seen) == "anytime"


# ---------------------------------------------------------------- the weekly job


@pytest.fixture
def world(db: Database) -> None:
    """One person in each of three time zones, in a team that went live on Monday."""
    rollout(db, "Forecast assistant", GO_LIVE, ["Sales"])
    for user_id, tz in {"UTOKYO": TOKYO, "UBERLIN": BERLIN, "ULA": LOS_ANGELES}.items():
        factories.person(db, user_id, tz=tz)


def test_each_person_gets_the_explainer_at_their_own_thursday_ten_oclock(services: Services, slack: FakeSlack, world: None) -> None:
    # Thursday 26 November 2026: 10:00 is 01:00 UTC in Tokyo, 09:00 in Berlin, 18:00 in Los Angeles.
    tick(services, f"{THURSDAY} 00:59")
    assert recipients(slack) == []
    tick(services, f"{THURSDAY} 01:00")
    assert recipients(slack) == ["UTOKYO"]
    tick(services, f"{THURSDAY} 08:59")
    assert recipients(slack) == ["UTOKYO"]
    tick(services, f"{THURSDAY} 09:00")
    assert recipients(slack) == ["UTOKYO", "UBERLIN"]
    run = tick(services, f"{THURSDAY} 18:00")
    assert recipients(slack) == ["UTOKYO", "UBERLIN", "ULA"]
    assert run.weeks == ["2026-W48"]
    assert {key for _, key in received(slack)} == {"what-changes-at-go-live"}


def test_a_second_run_sends_nothing_twice(services: Services, slack: FakeSlack, world: None, db: Database) -> None:
    runs = [tick(services, when) for when in (f"{THURSDAY} 09:00", f"{THURSDAY} 09:00", "2026-11-27 01:00", "2026-11-27 01:00")]
    assert [run.sent for run in runs] == [1, 0, 2, 0]  # Berlin; again; Tokyo and Los Angeles; again
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ExplainerDelivery)) == 3


def test_one_explainer_a_week_even_with_several_due(services: Services, slack: FakeSlack, db: Database) -> None:
    # Went live five weeks ago: offsets 0 to 4 are all due, but they arrive one a week, in order.
    rollout(db, "Forecast assistant", "2026-10-19", ["Sales"])
    factories.person(db, "UBERLIN", tz=BERLIN)
    for thursday in ("2026-11-26", "2026-12-03", "2026-12-10"):
        tick(services, f"{thursday} 09:00")
        tick(services, f"{thursday} 12:00", force=True)
    assert [key for _, key in received(slack)] == [
        "what-changes-at-go-live",
        "take-work-off-your-plate",
        "check-ai-output-without-redoing-it",
    ]


def test_entry_level_people_get_their_own_explainer_in_the_sequence(services: Services, slack: FakeSlack, db: Database) -> None:
    rollout(db, "Forecast assistant", GO_LIVE, ["Sales"])
    factories.person(db, "UNEW", tz=BERLIN, level="entry")
    factories.person(db, "UOLD", tz=BERLIN, level="experienced")
    tick(services, f"{THURSDAY} 09:00")
    tick(services, "2026-12-03 09:00")
    assert sorted(received(slack)[2:]) == [
        ("UNEW", "entry-level-learning-the-job-with-ai"),
        ("UOLD", "take-work-off-your-plate"),
    ]


def test_people_outside_every_rollout_get_only_timeless_explainers(services: Services, slack: FakeSlack, db: Database) -> None:
    rollout(db, "Forecast assistant", GO_LIVE, ["Sales"])
    factories.person(db, "ULEGAL", team_path="Legal", tz=BERLIN)
    factories.person(db, "UEMEA", team_path="Sales/EMEA", tz=BERLIN)
    tick(services, f"{THURSDAY} 09:00")
    assert sorted(received(slack)) == [("UEMEA", "what-changes-at-go-live"), ("ULEGAL", "hidden-ai-work-counts")]
    run = tick(services, "2026-12-03 09:00")
    assert received(slack)[2:] == [("UEMEA", "take-work-off-your-plate")]
    assert run.up_to_date == 1


def test_nothing_arrives_before_go_live_except_timeless_explainers(services: Services, slack: FakeSlack, db: Database) -> None:
    rollout(db, "Forecast assistant", "2026-12-07", ["Sales"])
    factories.person(db, "USOON", tz=BERLIN)
    tick(services, f"{THURSDAY} 09:00")
    assert received(slack) == [("USOON", "hidden-ai-work-counts")]


def test_nobody_gets_an_explainer_on_their_weekend(services: Services, slack: FakeSlack, world: None) -> None:
    tick(services, "2026-11-28 12:00")
    tick(services, "2026-11-29 12:00")
    assert recipients(slack) == []


def test_a_late_start_catches_up_in_working_hours(services: Services, slack: FakeSlack, world: None) -> None:
    # Down all Thursday; back on Friday at 09:00 UTC: 10:00 in Berlin, evening in Tokyo, night in LA.
    tick(services, "2026-11-27 09:00")
    assert recipients(slack) == ["UBERLIN"]
    tick(services, "2026-11-27 18:00")
    assert recipients(slack) == ["UBERLIN", "ULA"]
    # Tokyo's Friday ended in the evening; its Monday morning is the next workday in the week after.
    tick(services, "2026-11-30 01:00")
    assert recipients(slack) == ["UBERLIN", "ULA"]


def test_force_ignores_the_time_of_day_but_not_the_weekend(services: Services, slack: FakeSlack, world: None) -> None:
    assert tick(services, "2026-11-24 16:00").sent == 0  # Tuesday: not explainer day yet
    run = tick(services, "2026-11-24 16:00", force=True)
    assert sorted(recipients(slack)) == ["UBERLIN", "ULA", "UTOKYO"]
    assert run.weeks == ["2026-W48"]
    assert tick(services, "2026-11-28 12:00", force=True, week=IsoWeek(2026, 49)).sent == 0


def test_paused_people_get_nothing_until_they_resume(services: Services, slack: FakeSlack, db: Database) -> None:
    rollout(db, "Forecast assistant", GO_LIVE, ["Sales"])
    factories.person(db, "UPAUSE", tz=BERLIN)
    with freeze_time("2026-11-20 12:00"):
        pause(db, "UPAUSE", None)
    tick(services, f"{THURSDAY} 09:00")
    assert recipients(slack) == []
    with freeze_time(f"{THURSDAY} 12:00"):
        resume(db, "UPAUSE")
    tick(services, f"{THURSDAY} 12:05")
    assert received(slack) == [("UPAUSE", "what-changes-at-go-live")]


def test_away_people_are_held_back_until_they_return(services: Services, slack: FakeSlack, db: Database) -> None:
    rollout(db, "Forecast assistant", GO_LIVE, ["Sales"])
    factories.person(db, "UHERE", tz=BERLIN)
    factories.person(db, "UAWAY", tz=BERLIN, away=True)
    run = tick(services, f"{THURSDAY} 09:00")
    assert recipients(slack) == ["UHERE"] and run.held_away == 1
    with db.session() as session:
        session.execute(update(Person).where(Person.slack_user_id == "UAWAY").values(away=False))
    tick(services, "2026-11-27 09:00")
    assert recipients(slack) == ["UHERE", "UAWAY"]


def test_slack_outage_leaves_the_explainer_queued_for_the_next_run(services: Services, slack: FakeSlack, world: None) -> None:
    slack.fail("chat.postMessage", error="internal_error", times=DELIVERY_ATTEMPTS)
    run = tick(services, f"{THURSDAY} 09:00")
    assert run.sent == 0 and run.stopped == "slack answer lost: internal_error"
    slack.reset_calls()
    assert tick(services, f"{THURSDAY} 09:05").sent == 1
    assert recipients(slack) == ["UBERLIN"]


def test_an_explainer_that_never_went_out_comes_the_next_week_not_twice_in_one(
    services: Services, slack: FakeSlack, db: Database
) -> None:
    rollout(db, "Forecast assistant", GO_LIVE, ["Sales"])
    factories.person(db, "UBERLIN", tz=BERLIN)
    slack.fail("chat.postMessage", error="internal_error", times=2 * DELIVERY_ATTEMPTS)
    tick(services, f"{THURSDAY} 09:00")
    tick(services, "2026-11-27 16:55")  # Friday, still down; then the weekend
    slack.reset_calls()
    tick(services, "2026-11-30 09:00")  # Monday: the unsent explainer of last week is not sent late
    assert received(slack) == []
    tick(services, "2026-12-03 09:00")
    assert received(slack) == [("UBERLIN", "what-changes-at-go-live")]
    with db.session() as session:
        assert session.scalars(select(ExplainerDelivery.week)).all() == ["2026-W49"]


def test_an_account_slack_refuses_is_marked_failed_and_the_next_one_follows_next_week(
    services: Services, slack: FakeSlack, db: Database
) -> None:
    rollout(db, "Forecast assistant", GO_LIVE, ["Sales"])
    factories.person(db, "UGONE", tz=BERLIN)
    slack.add_user("UGONE", deleted=True)
    run = tick(services, f"{THURSDAY} 09:00")
    assert (run.sent, run.failed) == (0, 1)
    assert tick(services, f"{THURSDAY} 09:05").failed == 0
    with db.session() as session:
        assert session.scalars(select(ExplainerDelivery.error)).one() == "user_disabled"


def test_the_dm_names_its_delivery_in_message_metadata(services: Services, slack: FakeSlack, world: None, db: Database) -> None:
    tick(services, f"{THURSDAY} 09:00")
    metadata = slack.calls_to("chat.postMessage")[0].params["metadata"]
    with db.session() as session:
        delivery = session.scalars(select(ExplainerDelivery)).one()
    assert metadata["event_payload"] == {"delivery_id": delivery.id, "kind": "explainer", "explainer": "what-changes-at-go-live"}
    assert (delivery.status, delivery.channel_id) == ("sent", "DBERLIN")


def test_an_explainer_removed_from_the_library_before_sending_is_not_sent(
    services: Services, slack: FakeSlack, world: None, db: Database, tmp_path: Path
) -> None:
    slack.fail("chat.postMessage", error="internal_error", times=DELIVERY_ATTEMPTS)
    tick(services, f"{THURSDAY} 09:00")  # queued, not sent
    smaller = library_of(tmp_path, {"key": "replacement", "title": "Replacement"})
    slack.reset_calls()
    tick(services, f"{THURSDAY} 09:05", library=smaller)
    tick(services, f"{THURSDAY} 09:10", library=smaller)
    assert received(slack) == [("UBERLIN", "replacement")]


# ---------------------------------------------------------------- feedback, questions, digest figures


def sent_to(services: Services, db: Database, *user_ids: str, team: str = "Sales") -> None:
    rollout(db, "Forecast assistant", GO_LIVE, [team])
    for user_id in user_ids:
        factories.person(db, user_id, team_path=team, tz=zone_of(user_id))
    tick(services, f"{THURSDAY} 09:00")


COLLEAGUES = ("UBEN", "UCARA", "UDAN", "UEVA")  # with Anna, the minimum group of five
PARIS = "Europe/Paris"  # Berlin's clock, another time zone: recipients then span two


def zone_of(user_id: str) -> str:
    return PARIS if user_id == "UEVA" else BERLIN


def test_an_unnamed_question_about_an_explainer_few_received_is_refused(
    services: Services, db: Database, slack: FakeSlack
) -> None:
    sent_to(services, db, "UANNA", *COLLEAGUES[:3])
    slack.reset_calls()
    # Four people got it: the council, told which explainer was asked about, could guess who asked.
    with pytest.raises(service.TraceableQuestion, match="Fewer than 5 people"):
        service.ask_question(db, services.messenger, "CCOUNCIL", "UANNA", "what-changes-at-go-live", "Why us?",
                             named=False, min_group=services.min_group)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ExplainerQuestion)) == 0
    assert slack.calls_to("chat.postMessage") == []
    receipt = service.ask_question(db, services.messenger, "CCOUNCIL", "UANNA", "what-changes-at-go-live", "Why us?",
                                   named=True, min_group=services.min_group)
    assert receipt.posted and not receipt.question.anonymous
    factories.person(db, COLLEAGUES[3], team_path="Sales", tz=zone_of(COLLEAGUES[3]))
    tick(services, f"{THURSDAY} 10:00")  # a fifth person gets it: now no one stands out
    receipt = service.ask_question(db, services.messenger, "CCOUNCIL", "UANNA", "what-changes-at-go-live", "Why us?",
                                   named=False, min_group=services.min_group)
    assert receipt.queued and receipt.question.anonymous and not receipt.posted


def batch(services: Services, when: str, **kwargs: object) -> service.QuestionBatchRun:
    with freeze_time(when):
        return service.run_question_batch(
            services.db, services.messenger, "CCOUNCIL", services.settings.explainers, services.behaviour, **kwargs  # type: ignore[arg-type]
        )


def council_posts(slack: FakeSlack) -> list[str]:
    return [c.params["text"] for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "CCOUNCIL"]


def test_anonymous_questions_go_to_the_council_together_once_a_day(services: Services, db: Database, slack: FakeSlack) -> None:
    sent_to(services, db, "UANNA", *COLLEAGUES)
    with freeze_time(f"{THURSDAY} 11:00"):
        for asker, text in (("UANNA", "Why us?"), ("UBEN", "Who checks?")):
            receipt = service.ask_question(db, services.messenger, "CCOUNCIL", asker, "what-changes-at-go-live", text,
                                           named=False, min_group=services.min_group)
            assert receipt.queued
    slack.reset_calls()
    assert batch(services, f"{THURSDAY} 13:59").summary() == "questions: no batch (not due yet today)"
    assert council_posts(slack) == []
    assert batch(services, f"{THURSDAY} 14:00").summary() == "questions 2026-11-26: posted 2, held 0, failed 0"
    assert len(council_posts(slack)) == 2 and all(text.startswith("Someone asked") for text in council_posts(slack))
    # A second run that day, or a second clock, posts nothing again.
    assert batch(services, f"{THURSDAY} 18:00").summary() == "questions: no batch (already posted today)"
    assert len(council_posts(slack)) == 2
    with db.session() as session:
        assert [q.week for q in session.scalars(select(ExplainerQuestion))] == ["2026-W48", "2026-W48"]


def test_an_anonymous_question_waits_while_too_few_still_hold_its_explainer(
    services: Services, db: Database, slack: FakeSlack
) -> None:
    sent_to(services, db, "UANNA", *COLLEAGUES)
    with freeze_time(f"{THURSDAY} 11:00"):
        service.ask_question(db, services.messenger, "CCOUNCIL", "UANNA", "what-changes-at-go-live", "Why us?",
                             named=False, min_group=services.min_group)
    with db.session() as session:
        session.execute(update(Person).where(Person.slack_user_id == COLLEAGUES[0]).values(active=False))
    slack.reset_calls()
    assert batch(services, f"{THURSDAY} 14:00").summary() == "questions 2026-11-26: posted 0, held 1, failed 0"
    assert council_posts(slack) == []
    with db.session() as session:
        session.execute(update(Person).where(Person.slack_user_id == COLLEAGUES[0]).values(active=True))
    assert batch(services, "2026-11-27 14:00").posted == 1


def test_recipients_who_have_left_do_not_count_towards_an_anonymous_question(
    services: Services, db: Database, slack: FakeSlack
) -> None:
    sent_to(services, db, "UANNA", *COLLEAGUES)  # five got it
    with db.session() as session:
        session.execute(update(Person).where(Person.slack_user_id == COLLEAGUES[0]).values(active=False))
    # One of the five has left: the asker is one of four still here, which is too few to hide in.
    with pytest.raises(service.TraceableQuestion, match="Fewer than 5 people"):
        service.ask_question(db, services.messenger, "CCOUNCIL", "UANNA", "what-changes-at-go-live", "Why us?",
                             named=False, min_group=services.min_group)


def test_an_anonymous_question_needs_recipients_in_two_time_zones(services: Services, db: Database, slack: FakeSlack) -> None:
    rollout(db, "Forecast assistant", GO_LIVE, ["Sales"])
    for user_id in ("UANNA", *COLLEAGUES):
        factories.person(db, user_id, team_path="Sales", tz=BERLIN)  # one office
    tick(services, f"{THURSDAY} 09:00")
    # Five got it, all in Berlin: the council could narrow the asker down to that office.
    with pytest.raises(service.TraceableQuestion, match="one time zone"):
        service.ask_question(db, services.messenger, "CCOUNCIL", "UANNA", "what-changes-at-go-live", "Why us?",
                             named=False, min_group=services.min_group)
    with db.session() as session:
        session.execute(update(Person).where(Person.slack_user_id == "UEVA").values(tz=PARIS))
    receipt = service.ask_question(db, services.messenger, "CCOUNCIL", "UANNA", "what-changes-at-go-live", "Why us?",
                                   named=False, min_group=services.min_group)
    assert receipt.queued
    # The one recipient elsewhere leaves before the batch: the question waits, and goes once
    # someone in another time zone holds the explainer again.
    with db.session() as session:
        session.execute(update(Person).where(Person.slack_user_id == "UEVA").values(active=False))
    slack.reset_calls()
    assert batch(services, f"{THURSDAY} 14:00").summary() == "questions 2026-11-26: posted 0, held 1, failed 0"
    assert council_posts(slack) == []
    with db.session() as session:
        session.execute(update(Person).where(Person.slack_user_id == "UEVA").values(active=True))
    assert batch(services, "2026-11-27 14:00").posted == 1
    assert len(council_posts(slack)) == 1


def test_feedback_is_stored_under_a_pseudonym_and_can_be_changed(services: Services, db: Database) -> None:
    sent_to(services, db, "UANNA")
    with freeze_time(f"{THURSDAY} 10:00"):
        service.record_feedback(db, KEY, "UANNA", "what-changes-at-go-live", True)
        service.record_feedback(db, KEY, "UANNA", "what-changes-at-go-live", False)
    with db.session() as session:
        row = session.scalars(select(ExplainerFeedback)).one()
    assert (row.first_week, len(row.pseudonym)) == ("2026-W48", 64)
    assert stored.ratings(db, KEY) == [("what-changes-at-go-live", "2026-W48", False, True)]
    assert "UANNA" not in row.pseudonym
    assert service.feedback_given(db, KEY, "UANNA", "what-changes-at-go-live") is False


def test_feedback_on_an_explainer_never_sent_is_refused(services: Services, db: Database) -> None:
    sent_to(services, db, "UANNA")
    with pytest.raises(service.UnknownExplainer):
        service.record_feedback(db, KEY, "UANNA", "who-decides-on-a-pause", True)
    with pytest.raises(service.UnknownExplainer):
        service.record_feedback(db, KEY, "UANNA", "no-such-thing", True)


@pytest.mark.parametrize("text", ["", "   \n ", "x" * 1001])
def test_an_empty_or_too_long_question_is_refused_before_anything_is_written(
    services: Services, db: Database, slack: FakeSlack, text: str
) -> None:
    sent_to(services, db, "UANNA", *COLLEAGUES)
    slack.reset_calls()
    with pytest.raises(service.InvalidQuestion):
        service.ask_question(db, services.messenger, "CCOUNCIL", "UANNA", "what-changes-at-go-live", text, named=False, min_group=services.min_group)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ExplainerQuestion)) == 0
    assert slack.calls_to("chat.postMessage") == []


def test_a_question_without_a_council_channel_is_refused_not_lost(services: Services, db: Database) -> None:
    sent_to(services, db, "UANNA")
    with pytest.raises(service.NoCouncilChannel, match="PULSE_COUNCIL_CHANNEL"):
        service.ask_question(db, services.messenger, None, "UANNA", "what-changes-at-go-live", "Why?", named=False, min_group=services.min_group)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ExplainerQuestion)) == 0


def test_a_question_slack_will_not_post_is_kept_and_the_next_batch_posts_it(
    services: Services, db: Database, slack: FakeSlack
) -> None:
    sent_to(services, db, "UANNA", *COLLEAGUES)
    slack.fail("chat.postMessage", error="channel_not_found")
    with freeze_time(f"{THURSDAY} 11:00"):
        receipt = service.ask_question(
            db, services.messenger, "CCOUNCIL", "UANNA", "what-changes-at-go-live", " Who checks the drafts? ", named=True,
            min_group=services.min_group,
        )
    assert receipt.posted is False and not receipt.queued
    with db.session() as session:
        row = session.scalars(select(ExplainerQuestion)).one()
    assert (row.text, row.person_id is not None, row.message_ts) == ("Who checks the drafts?", True, None)
    assert batch(services, f"{THURSDAY} 14:00").posted == 1
    assert council_posts(slack)[-1].startswith("<@UANNA> asked")


def test_question_text_never_reaches_the_logs(services: Services, db: Database, caplog: pytest.LogCaptureFixture) -> None:
    sent_to(services, db, "UANNA", *COLLEAGUES)
    caplog.set_level("DEBUG", logger="bot")
    service.ask_question(db, services.messenger, "CCOUNCIL", "UANNA", "what-changes-at-go-live", "Secret worry", named=False, min_group=services.min_group)
    assert "Secret worry" not in caplog.text and "UANNA" not in caplog.text


def rate_then_release(services: Services, db: Database, min_size: int) -> dict[str, tuple[int, object]]:
    people = [f"UP{n}" for n in range(6)]
    sent_to(services, db, *people)
    with freeze_time(f"{THURSDAY} 12:00"):
        for index, user_id in enumerate(people[:5]):
            service.record_feedback(db, KEY, user_id, "what-changes-at-go-live", helpful=index != 0)
    release_due(db, KEY, min_size, through="2026-W48", at=final_at("2026-W48"))
    return explainer_totals(db, "2026-W48")


def test_reach_and_helpfulness_are_released_with_the_week(services: Services, db: Database) -> None:
    [(reached, rated)] = rate_then_release(services, db, 5).values()
    assert reached == 6 and rated is not None
    assert (rated.people, rated.mean) == (5, pytest.approx(0.8))  # type: ignore[attr-defined]


def test_too_few_first_ratings_are_not_released_though_reach_is(services: Services, db: Database) -> None:
    assert rate_then_release(services, db, 6) == {"what-changes-at-go-live": (6, None)}


def test_a_rating_changed_after_its_week_was_released_changes_no_figure(services: Services, db: Database) -> None:
    before = rate_then_release(services, db, 5)
    with freeze_time("2026-12-02 12:00"):
        service.record_feedback(db, KEY, "UP0", "what-changes-at-go-live", helpful=True)  # was "not helpful"
    release_due(db, KEY, 5, through="2026-W49", at=final_at("2026-W49"))
    assert explainer_totals(db, "2026-W49") == before
    assert service.feedback_given(db, KEY, "UP0", "what-changes-at-go-live") is True  # the reader sees the change


def test_the_explainers_job_runs_from_the_command_line(
    database_url: str, db: Database, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(database_url=database_url, slack_api_url=slack.url)
    for name in ("database_url", "slack_api_url", "slack_bot_token", "pulse_pseudonym_key"):
        monkeypatch.setenv(name.upper(), str(getattr(settings, name)))
    rollout(db, "Forecast assistant", GO_LIVE, ["Sales"])
    factories.person(db, "UBERLIN", tz=BERLIN)
    with freeze_time(f"{THURSDAY} 09:00"), pytest.raises(SystemExit) as exit_info:
        main(["jobs", "run", "explainers"])
    assert exit_info.value.code == 0
    assert "explainers 2026-W48: sent 1" in capsys.readouterr().out
    assert recipients(slack) == ["UBERLIN"]

