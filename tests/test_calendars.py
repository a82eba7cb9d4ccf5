"""Each person's working week decides when they are asked: their workdays and their country's
public holidays, in their own time zone, with the person's roster row winning over their team's
calendar, and the team's over the default.

The organisation (imported with `pulse roster import`, like an operator does):

- Operations works Sunday to Thursday (`calendars.teams.Operations`), in Saudi Arabia unless a
  sub-team says otherwise; Operations/Dubai is in the United Arab Emirates. Dana and Dima are in
  Dubai, Nour in Dubai's night shift (the nearest team with a country is Operations/Dubai), Sami in
  Riyadh. Olga sits in Dubai but her own row says Monday to Friday and Germany.
- Sales works the default week (Monday to Friday) in the default country, the United States
  (`schedule.country`): Uma, Ulf and Una in New York. Berta in Berlin has `DE` on her row.

Dates checked against the `holidays` package: 2026-W22 holds Arafat Day (Tuesday 26 May) and
Eid al-Adha (27–29 May) in the Emirates and Saudi Arabia, where Sunday 31 May is also off
(observed); 3 October 2028, a Tuesday, is German Unity Day; 11 November 2026, a Wednesday, is
Veterans Day in the US; Thursday 14 May 2026 is Ascension Day in Germany; 25 December 2026 is a
Friday, Christmas in Germany and the US, and 26 December is Germany's second day of Christmas.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.calendars.days import Calendar, parse_workdays, workdays_text
from bot.calendars.people import CalendarRules
from bot.cli import main
from bot.db import Database
from bot.errors import SettingsError
from bot.explainers.service import run_explainer_job
from bot.models import Person, PulseRound
from bot.rights import my_data
from bot.slack.services import Services, make_services
from bot.slack.blocks.rights import my_data_replies
from bot.surveys.service import record_answer, run_pulse_job, run_reminder_job, skip_week
from tests.blockkit import assert_valid_blocks, assert_valid_view
from tests.conftest import BOT_TOKEN, PSEUDONYM_KEY, make_settings
from tests.harness import RunningApp, running_app
from tests.slack_server import FakeSlack

DUBAI, RIYADH, BERLIN, NEW_YORK = "Asia/Dubai", "Asia/Riyadh", "Europe/Berlin", "America/New_York"

CALENDARS = """\
schedule:
  country: US
{schedule}calendars:
  teams:
    Operations: {workdays: [sunday, monday, tuesday, wednesday, thursday], country: SA}
    Operations/Dubai: {country: AE}
"""

PEOPLE = {  # user id: (email, time zone)
    "UDANA": ("dana@example.com", DUBAI),
    "UDIMA": ("dima@example.com", DUBAI),
    "UNOUR": ("nour@example.com", DUBAI),
    "USAMI": ("sami@example.com", RIYADH),
    "UOLGA": ("olga@example.com", DUBAI),
    "UUMA": ("uma@example.com", NEW_YORK),
    "UULF": ("ulf@example.com", NEW_YORK),
    "UUNA": ("una@example.com", NEW_YORK),
    "UBERTA": ("berta@example.com", BERLIN),
}

ROSTER = """\
email,team,manages,level,council,country,workdays
dana@example.com,Operations/Dubai,,experienced,no,,
dima@example.com,Operations/Dubai,,entry,no,,
nour@example.com,Operations/Dubai/Night,,entry,no,,
sami@example.com,Operations/Riyadh,,experienced,no,,
olga@example.com,Operations/Dubai,,lead,no,de,"mon,tue,wed,thu,fri"
uma@example.com,Sales/US,,experienced,no,,
ulf@example.com,Sales/US,,entry,no,,
una@example.com,Sales/US,,lead,no,,
berta@example.com,Sales/DACH,,experienced,no,DE,
"""

SUNDAY_TO_THURSDAY = ["UDANA", "UDIMA", "UNOUR"]
MONDAY_TO_FRIDAY = ["UOLGA", "UUMA", "UULF", "UUNA", "UBERTA"]

Pulse = Callable[..., tuple[int, str, str]]


@pytest.fixture
def pulse(
    database_url: str, db: Database, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Pulse:
    """The `pulse` command in-process, against this test's database and Slack; (code, out, err)."""
    for name, value in {
        "DATABASE_URL": database_url,
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "PULSE_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "PULSE_COUNCIL_CHANNEL": "CCOUNCIL",
    }.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    return run


@pytest.fixture
def organisation(
    database_url: str, db: Database, slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pulse: Pulse
) -> Callable[..., Services]:
    """Import the roster with `pulse roster import` under a behaviour file; the app's services."""

    def build(schedule: str = "") -> Services:
        config = tmp_path / "behaviour.yml"
        config.write_text(CALENDARS.replace("{schedule}", schedule), encoding="utf-8")
        monkeypatch.setenv("PULSE_CONFIG", str(config))
        for user_id, (email, tz) in PEOPLE.items():
            slack.add_user(user_id, email=email, tz=tz)
        roster = tmp_path / "roster.csv"
        roster.write_text(ROSTER, encoding="utf-8")
        code, out, err = pulse("roster", "import", str(roster))
        assert (code, err) == (0, ""), err
        assert out == "Imported 9 people (9 new, 0 updated, 0 deactivated); 7 new teams.\n"
        return make_services(make_settings(database_url=database_url, slack_api_url=slack.url, pulse_config=config), db)

    return build


def dm_recipients(slack: FakeSlack) -> list[str]:
    return [call.params["channel"] for call in slack.calls_to("chat.postMessage")]


Job = Callable[[Services], object]


def pulse_job(services: Services) -> object:
    return run_pulse_job(services.db, services.messenger, services.behaviour)


def reminder_job(services: Services) -> object:
    return run_reminder_job(services.db, services.messenger, services.behaviour, services.key)


def explainer_job(services: Services) -> object:
    return run_explainer_job(services.db, services.messenger, services.behaviour, services.settings.explainers)


def every_hour(services: Services, slack: FakeSlack, start: str, end: str, job: Job = pulse_job) -> dict[str, str]:
    """Run `job` every hour from `start` to `end` (UTC), as the clock would; for each person it
    DMed, their local time then. Nobody may get two."""
    got: dict[str, str] = {}
    at = dt.datetime.fromisoformat(start)
    while at <= dt.datetime.fromisoformat(end):
        before = len(slack.calls_to("chat.postMessage"))
        with freeze_time(at):
            job(services)
        for user_id in dm_recipients(slack)[before:]:
            assert user_id not in got, f"{user_id} got two DMs"
            local = at.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(PEOPLE[user_id][1]))
            got[user_id] = f"{local:%a %d %b %H:%M}"
        at += dt.timedelta(hours=1)
    return got


def round_id(db: Database, week: str) -> int:
    with db.session() as session:
        return session.scalars(select(PulseRound.id).where(PulseRound.week == week)).one()


def open_home(app: RunningApp, user_id: str) -> dict[str, Any]:
    """The App Home the person sees when they open it (a signed app_home_opened event)."""
    app.slack.reset_calls()
    response = app.requests.event({"type": "app_home_opened", "user": user_id, "channel": "D" + user_id[1:], "tab": "home"})
    assert response.status == 200
    app.settle()
    [published] = app.slack.calls_to("views.publish")
    view = published.params["view"]
    assert_valid_view(view)
    return view


# ---------------------------------------------------------------- the pulse


def test_a_sunday_to_thursday_team_gets_its_pulse_on_its_next_workday_while_monday_to_friday_gets_tuesday(
    organisation: Callable[..., Services], slack: FakeSlack
) -> None:
    emirates = holidays.country_holidays("AE", years=2026)
    assert all(dt.date(2026, 5, day) in emirates for day in (26, 27, 28, 29)), "the holidays package moved Eid al-Adha 2026"
    assert dt.date(2026, 5, 31) not in emirates
    services = organisation()

    sent = every_hour(services, slack, "2026-05-25 00:00", "2026-06-01 12:00")

    # Tuesday to Thursday are Arafat Day and Eid in Dubai, Friday and Saturday their weekend.
    assert {user: sent[user] for user in SUNDAY_TO_THURSDAY} == dict.fromkeys(SUNDAY_TO_THURSDAY, "Sun 31 May 10:00")
    # Everyone on Monday to Friday gets it on Tuesday at 10:00 where they are, Olga in Dubai too.
    assert {user: sent[user] for user in MONDAY_TO_FRIDAY} == dict.fromkeys(MONDAY_TO_FRIDAY, "Tue 26 May 10:00")
    # Riyadh's whole week from Tuesday is Eid, its weekend, and the Sunday observed in its place.
    assert "USAMI" not in sent


def test_a_person_whose_whole_week_is_off_is_not_sent_and_does_not_lower_the_response_rate(
    organisation: Callable[..., Services], slack: FakeSlack, db: Database, pulse: Pulse, tmp_path: Path
) -> None:
    services = organisation()
    every_hour(services, slack, "2026-05-25 00:00", "2026-06-01 12:00")
    week = round_id(db, "2026-W22")
    with freeze_time("2026-05-31 08:00"):
        for user_id in ("UDANA", "UUMA", "UULF", "UBERTA"):
            record_answer(db, services.key, user_id, week, "capability", 3)
        skip_week(db, services.key, "UUNA", week)

    with freeze_time("2026-06-01 14:00"):  # the round closed at 12:00 UTC
        code, _, err = pulse("export", "participation", "--week", "2026-W22", "--weeks", "1", "--out", str(tmp_path / "p.csv"))
        assert code == 0, err
        assert my_data(db, services.key, "USAMI").pulses_sent == ()
    with (tmp_path / "p.csv").open(encoding="utf-8") as handle:
        rows = {row["group"]: row for row in csv.DictReader(handle)}
    # Eight were asked (Sami was not); four answered: the rate is 4 of 8, not 4 of 9.
    organisation_row = rows["Organisation"]
    assert (organisation_row["sent"], organisation_row["answered"], organisation_row["response_rate"]) == ("8", "4", "0.50")


def test_a_german_public_holiday_moves_the_pulse_to_wednesday_while_a_us_colleague_gets_it_tuesday(
    organisation: Callable[..., Services], slack: FakeSlack, pulse: Pulse
) -> None:
    assert holidays.country_holidays("DE", years=2028).get(dt.date(2028, 10, 3)) == "German Unity Day"
    services = organisation()

    # Forced on the holiday itself, the pulse still skips Berta (and Olga, whose own row says DE).
    with freeze_time("2028-10-03 16:00"):
        code, out, err = pulse("jobs", "run", "pulse", "--force")
    assert (code, err) == (0, "")
    assert out == "pulse 2028-W40: sent 7, failed 0, held back while away 0\n"
    forced = dm_recipients(slack)
    assert "UBERTA" not in forced and "UOLGA" not in forced
    assert {"UUMA", "UULF", "UUNA"} <= set(forced)
    slack.reset_calls()

    sent = every_hour(services, slack, "2028-10-03 17:00", "2028-10-05 00:00")
    assert sent == {"UBERTA": "Wed 04 Oct 10:00", "UOLGA": "Wed 04 Oct 10:00"}


def test_the_app_home_says_when_the_pulse_comes_on_a_moved_day_and_when_it_does_not_come(
    organisation: Callable[..., Services], db: Database, slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    organisation()
    settings = make_settings(database_url=database_url, slack_api_url=slack.url, pulse_config=tmp_path / "behaviour.yml")
    with running_app(settings, db, slack) as app, freeze_time("2026-05-25 12:00"):
        dubai = json.dumps(open_home(app, "UDANA"))
        riyadh = json.dumps(open_home(app, "USAMI"))
        new_york = json.dumps(open_home(app, "UUMA"))
    sunday_ten_in_dubai = int(dt.datetime(2026, 5, 31, 6, 0, tzinfo=dt.timezone.utc).timestamp())
    tuesday_ten_in_new_york = int(dt.datetime(2026, 5, 26, 14, 0, tzinfo=dt.timezone.utc).timestamp())
    assert f"Your pulse arrives <!date^{sunday_ten_in_dubai}^" in dubai
    assert "No pulse for you this week: the rest of your week is days off." in riyadh
    assert f"Your pulse arrives <!date^{tuesday_ten_in_new_york}^" in new_york


def test_a_late_pulse_waits_for_the_next_workday_not_a_public_holiday(
    organisation: Callable[..., Services], slack: FakeSlack
) -> None:
    services = organisation()
    # The scheduler was down all Tuesday 10 November 2026 and comes back at 23:30 UTC: evening in
    # New York, night in Berlin, Wednesday morning in Dubai.
    sent = every_hour(services, slack, "2026-11-10 23:30", "2026-11-13 00:30")
    # Berlin and Dubai catch up on Wednesday morning; New York's Wednesday is Veterans Day.
    assert sent["UBERTA"] == "Wed 11 Nov 10:30"
    assert sent["UDANA"] == "Wed 11 Nov 10:30"
    assert sent["UUMA"] == "Thu 12 Nov 10:30"


# ---------------------------------------------------------------- reminders and explainers


def test_reminders_wait_for_the_persons_next_workday(organisation: Callable[..., Services], slack: FakeSlack) -> None:
    services = organisation("  reminder_after_hours: 72\n")
    sent = every_hour(services, slack, "2026-12-21 00:00", "2026-12-22 23:00")
    assert set(sent) == set(PEOPLE)  # Tuesday 22 December is a workday for everyone
    slack.reset_calls()

    reminded = every_hour(services, slack, "2026-12-23 00:00", "2026-12-28 12:00", reminder_job)
    # Three days later is Friday 25 December: the weekend of Dubai and Riyadh, who are reminded
    # on Sunday; Christmas in Germany, followed by the second day of Christmas and the weekend.
    assert reminded == {
        "UDANA": "Sun 27 Dec 10:00",
        "UDIMA": "Sun 27 Dec 10:00",
        "UNOUR": "Sun 27 Dec 10:00",
        "USAMI": "Sun 27 Dec 10:00",
        "UOLGA": "Mon 28 Dec 10:00",
        "UBERTA": "Mon 28 Dec 10:00",
    }
    # New York's Friday is Christmas too, and its Monday morning comes after the round closed.


def test_explainers_skip_a_public_holiday(organisation: Callable[..., Services], slack: FakeSlack) -> None:
    assert holidays.country_holidays("DE", years=2026).get(dt.date(2026, 5, 14)) == "Ascension Day"
    services = organisation()
    sent = every_hour(services, slack, "2026-05-13 00:00", "2026-05-17 23:00", explainer_job)
    thursday = ["UDANA", "UDIMA", "UNOUR", "USAMI", "UUMA", "UULF", "UUNA"]
    assert {user: sent[user] for user in thursday} == dict.fromkeys(thursday, "Thu 14 May 10:00")
    # Ascension Day in Germany: Berta in Berlin, and Olga in Dubai on her German calendar.
    assert {user: sent[user] for user in ("UBERTA", "UOLGA")} == dict.fromkeys(("UBERTA", "UOLGA"), "Fri 15 May 10:00")


# ---------------------------------------------------------------- what decides a calendar


def test_the_persons_row_beats_the_team_and_the_nearest_team_beats_the_default() -> None:
    rules = CalendarRules(
        Calendar(parse_workdays("mon-fri"), "US"),
        team_workdays={"Operations": parse_workdays("sun-thu"), "Operations/Dubai/Night": parse_workdays("mon-thu")},
        team_countries={"Operations": "SA", "Operations/Dubai": "AE"},
    )
    assert rules.calendar("Sales/US") == Calendar(parse_workdays("mon-fri"), "US")
    assert rules.calendar("Operations/Riyadh") == Calendar(parse_workdays("sun-thu"), "SA")
    # Each part from the nearest team that sets it: the country from Dubai, the week from Operations.
    assert rules.calendar("Operations/Dubai/Day") == Calendar(parse_workdays("sun-thu"), "AE")
    assert rules.calendar("Operations/Dubai/Night") == Calendar(parse_workdays("mon-thu"), "AE")
    # A name that only starts like a team is not inside it.
    assert rules.calendar("OperationsX") == Calendar(parse_workdays("mon-fri"), "US")
    assert rules.calendar("Operations/Dubai", "mon-fri", "DE") == Calendar(parse_workdays("mon-fri"), "DE")
    assert rules.calendar("Operations/Dubai", None, "DE") == Calendar(parse_workdays("sun-thu"), "DE")


@pytest.mark.parametrize(
    ("text", "days", "written"),
    [
        ("mon-fri", {1, 2, 3, 4, 5}, "mon-fri"),
        ("sun-thu", {7, 1, 2, 3, 4}, "sun-thu"),
        ("Sunday–Thursday", {7, 1, 2, 3, 4}, "sun-thu"),
        ("mon,tue,wed,thu,fri", {1, 2, 3, 4, 5}, "mon-fri"),
        ("mon-wed; fri", {1, 2, 3, 5}, "mon-wed,fri"),
        ("sat-mon", {6, 7, 1}, "sat-mon"),
        ("fri-thu", set(range(1, 8)), "mon-sun"),
    ],
)
def test_workdays_are_read_as_people_write_them(text: str, days: set[int], written: str) -> None:
    assert parse_workdays(text) == frozenset(days)
    assert workdays_text(parse_workdays(text)) == written


def test_the_roster_records_each_persons_own_calendar_and_mydata_shows_it(
    organisation: Callable[..., Services], db: Database
) -> None:
    services = organisation()
    with db.session() as session:
        own = {p.slack_user_id: (p.workdays, p.country) for p in session.scalars(select(Person))}
    assert own["UOLGA"] == ("mon-fri", "DE")
    assert own["UBERTA"] == (None, "DE")
    assert own["UDANA"] == (None, None)  # the team's calendar applies
    replies = my_data_replies(my_data(db, services.key, "UOLGA"))
    for reply in replies:
        assert_valid_blocks(reply.blocks, surface="message")
    assert "workdays mon-fri · country DE" in json.dumps([r.blocks for r in replies], ensure_ascii=False)


# ---------------------------------------------------------------- refused values


@pytest.mark.parametrize(
    ("behaviour", "problem"),
    [
        (
            "calendars:\n  teams:\n    Operations/Dubai: {country: XX}\n",
            "calendars.teams.Operations/Dubai.country: country 'XX' is not a country code with known public "
            "holidays (ISO 3166-1 alpha-2, e.g. DE, US, AE)",
        ),
        (
            "calendars:\n  teams:\n    Operations: {workdays: [sunday, funday]}\n",
            "calendars.teams.Operations.workdays: workdays 'funday': 'funday' is not a day "
            "(write days as mon-fri, sun-thu or mon,tue,wed)",
        ),
        (
            "calendars:\n  teams:\n    Operations: {workdays: mon}\n",
            "calendars.teams.Operations.workdays: workdays mon has no workday on or after the pulse day "
            "(tuesday; weeks run Monday to Sunday), so they would never get the pulse",
        ),
        ("calendars:\n  teams:\n    Operations: {}\n", "calendars.teams.Operations: set workdays, country or both"),
        ("calendars:\n  teams:\n    Operations: {holidays: DE}\n", "calendars.teams.Operations.holidays: unknown key"),
        (
            "calendars:\n  teams:\n    Sales//EMEA: {country: DE}\n",
            "calendars.teams: 'Sales//EMEA' is not a team path such as Operations/Dubai",
        ),
        (
            "schedule:\n  country: Germany\n",
            "schedule.country: country 'Germany' is not a country code with known public holidays "
            "(ISO 3166-1 alpha-2, e.g. DE, US, AE)",
        ),
        ("schedule:\n  workdays: sun-tue\n  pulse_day: thursday\n", "schedule: pulse_day thursday is not one of the workdays"),
    ],
)
def test_a_bad_calendar_in_the_behaviour_file_stops_the_program_with_one_line_naming_the_key(
    pulse: Pulse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, behaviour: str, problem: str
) -> None:
    config = tmp_path / "behaviour.yml"
    config.write_text(behaviour, encoding="utf-8")
    monkeypatch.setenv("PULSE_CONFIG", str(config))
    code, out, err = pulse("jobs", "run", "pulse")
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"pulse: PULSE_CONFIG ({config}): {problem}"]


def test_a_sunday_to_thursday_default_week_is_accepted(tmp_path: Path) -> None:
    config = tmp_path / "behaviour.yml"
    config.write_text("schedule:\n  workdays: sun-thu\n  country: il\n", encoding="utf-8")
    schedule = make_settings(pulse_config=config).behaviour.schedule
    assert [day.name for day in schedule.workdays] == ["monday", "tuesday", "wednesday", "thursday", "sunday"]
    assert schedule.country == "IL"
    with pytest.raises(SettingsError):
        config.write_text("schedule:\n  workdays: []\n", encoding="utf-8")
        make_settings(pulse_config=config)


def test_bad_countries_and_workdays_in_the_roster_are_refused_row_by_row_and_nothing_is_imported(
    pulse: Pulse, db: Database, slack: FakeSlack, tmp_path: Path
) -> None:
    for user_id, email in (("UANA", "ana@example.com"), ("UBEN", "ben@example.com"), ("UCY", "cy@example.com"), ("UDEE", "dee@example.com")):
        slack.add_user(user_id, email=email)
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "email,team,country,workdays\n"
        "ana@example.com,Sales,XX,\n"
        "ben@example.com,Sales,,mon-funday\n"
        "cy@example.com,Sales,,mon\n"
        "dee@example.com,Sales,de,sun-thu\n",
        encoding="utf-8",
    )
    code, out, err = pulse("roster", "import", str(roster))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "line 2: country 'XX' is not a country code with known public holidays (ISO 3166-1 alpha-2, e.g. DE, US, AE)",
        "line 3: workdays 'mon-funday': 'funday' is not a day (write days as mon-fri, sun-thu or mon,tue,wed)",
        "line 4: workdays mon has no workday on or after the pulse day (tuesday; weeks run Monday to Sunday), "
        "so they would never get the pulse",
        "pulse: roster.csv has 3 errors; nothing was imported",
    ]
    with db.session() as session:
        assert session.scalars(select(Person)).all() == []

    # Fixed, it imports; a file without the new columns stays valid and leaves nobody a calendar of their own.
    roster.write_text("email,team,country,workdays\nana@example.com,Sales,,\ndee@example.com,Sales,de,sun-thu\n", encoding="utf-8")
    assert pulse("roster", "import", str(roster))[0] == 0
    with db.session() as session:
        assert session.scalars(select(Person.country).where(Person.slack_user_id == "UDEE")).one() == "DE"
    roster.write_text("email,team\nana@example.com,Sales\ndee@example.com,Sales\n", encoding="utf-8")
    assert pulse("roster", "import", str(roster))[0] == 0
    with db.session() as session:
        assert session.execute(select(Person.workdays, Person.country).where(Person.slack_user_id == "UDEE")).one() == (None, None)
