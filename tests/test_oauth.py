"""OAuth mode: the app installed through /slack/install, org-wide on Enterprise Grid, its tokens
kept in the database and rotated; every request and every job acts with the installation's token.

The installer's browser is played by urllib: it opens /slack/install, follows the authorize link
to Slack (the local Slack-compatible server hands out the code Slack would), and comes back to
/slack/oauth_redirect with the code, the state and the state cookie.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.cli import main
from bot.db import Database
from bot.models import Person, PulseRound, Response, Team
from bot.settings import Settings
from bot.slack.installation_tables import BOTS, INSTALLATIONS, OAUTH_STATES
from bot.slack.installations import BOT_SCOPES
from bot.surveys.service import run_pulse_job
from tests import factories, stored
from tests.blockkit import assert_valid_message, assert_valid_view
from tests.conftest import PSEUDONYM_KEY, SIGNING_SECRET, make_settings
from tests.harness import RunningApp, running_app
from tests.slack_requests import SignedSlack
from tests.slack_server import FakeSlack, Install, manifest_bot_scopes
from tests.test_pulse_http import buttons, dm

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret-for-tests"
ACME = Install(team_id=None, team_name=None, enterprise_id="E0ACME", enterprise_name="Acme", org_wide=True)
TUESDAY_MORNING = "2026-11-24 09:00"


@dataclass
class Page:
    status: int
    text: str
    headers: dict[str, str]


def get(url: str, *, cookie: str | None = None) -> Page:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return Page(answer.status, answer.read().decode(), {k.lower(): v for k, v in answer.headers.items()})
    except urllib.error.HTTPError as error:
        with error:
            return Page(error.code, error.read().decode(), {k.lower(): v for k, v in error.headers.items()})


@pytest.fixture
def oauth(database_url: str, db: Database, slack: FakeSlack) -> Settings:
    slack.oauth_app(CLIENT_ID, CLIENT_SECRET)
    return make_settings(
        database_url=database_url,
        slack_api_url=slack.url,
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
    )


@pytest.fixture
def app(oauth: Settings, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    with running_app(oauth, db, slack) as running:
        yield running


def start_install(app: RunningApp) -> tuple[str, str, Page]:
    """Open /slack/install: the authorize link on the page, and the state cookie it set."""
    page = get(f"{app.url}/slack/install")
    assert page.status == 200, page.text
    link = html.unescape(re.search(r'<a href="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    cookie = page.headers["set-cookie"].split(";")[0]
    return link, cookie, page


def install(app: RunningApp, slack: FakeSlack, who: Install = ACME) -> Page:
    link, cookie, _ = start_install(app)
    state = parse_qs(urlsplit(link).query)["state"][0]
    code = slack.grant(who)  # the installer approves the app in Slack
    return get(f"{app.url}/slack/oauth_redirect?{urlencode({'code': code, 'state': state})}", cookie=cookie)


def installations(db: Database) -> list[dict]:
    with db.engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(INSTALLATIONS)).mappings()]


def workspace(app: RunningApp, team_id: str) -> SignedSlack:
    """Requests from one workspace of the Acme organisation, where the app is installed org-wide."""
    return SignedSlack(app.url, SIGNING_SECRET, team_id=team_id, enterprise_id="E0ACME", org_wide=True,
                       response_url_factory=app.slack.response_url)


# ---------------------------------------------------------------- the install flow


def test_the_install_page_links_to_slacks_authorize_page_with_a_state_it_remembers(app: RunningApp, db: Database) -> None:
    link, cookie, page = start_install(app)

    url = urlsplit(link)
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://slack.com/oauth/v2/authorize"
    assert query["client_id"] == [CLIENT_ID]
    assert set(query["scope"][0].split(",")) == set(manifest_bot_scopes()) == set(BOT_SCOPES)
    assert cookie == f"slack-app-oauth-state={query['state'][0]}"  # only this browser can finish the install
    assert "HttpOnly" in page.headers["set-cookie"]
    with db.engine.connect() as connection:
        assert connection.execute(select(OAUTH_STATES.c.state)).scalars().all() == query["state"]


def test_coming_back_with_a_valid_state_stores_the_organisations_installation(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    page = install(app, slack)

    assert page.status == 200 and "Thank you" in page.text
    (row,) = installations(db)
    assert (row["enterprise_id"], row["enterprise_name"], row["team_id"], row["is_enterprise_install"]) == (
        "E0ACME", "Acme", None, True
    )
    assert row["bot_token"] in slack.issued and row["user_id"] == "UADMIN"
    assert row["enterprise_url"] == "https://acme.enterprise.slack.com/"
    (exchange,) = slack.calls_to("oauth.v2.access")
    assert exchange.params["client_secret"] == CLIENT_SECRET  # sent to Slack, as Basic auth
    with db.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(OAUTH_STATES)).scalar_one() == 0  # used up
        assert connection.execute(select(BOTS.c.bot_token)).scalars().all() == [row["bot_token"]]


def test_a_state_never_issued_gets_a_page_that_says_what_to_do(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    code = slack.grant(ACME)
    page = get(f"{app.url}/slack/oauth_redirect?code={code}&state=made-up", cookie="slack-app-oauth-state=made-up")

    assert page.status == 401
    assert "This install link has expired or was already used." in page.text
    assert 'href="/slack/install"' in page.text
    assert installations(db) == [] and slack.calls_to("oauth.v2.access") == []


def test_an_install_link_older_than_ten_minutes_no_longer_installs(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    with freeze_time("2026-11-24 09:00") as clock:
        link, cookie, _ = start_install(app)
        clock.tick(11 * 60)  # the installer left the tab open
        state = parse_qs(urlsplit(link).query)["state"][0]
        page = get(f"{app.url}/slack/oauth_redirect?code={slack.grant(ACME)}&state={state}", cookie=cookie)

    assert page.status == 401 and "expired" in page.text
    assert installations(db) == []


def test_an_install_cancelled_in_slack_says_so(app: RunningApp, db: Database) -> None:
    page = get(f"{app.url}/slack/oauth_redirect?error=access_denied&state=whatever")

    assert "The install was cancelled in Slack." in page.text
    assert installations(db) == []


def test_another_organisation_cannot_take_the_app_over(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    install(app, slack)
    other = Install(team_id=None, team_name=None, enterprise_id="E0OTHER", enterprise_name="Other", org_wide=True)

    page = install(app, slack, other)

    assert page.status == 403
    assert "Rollout Pulse already serves the organisation Acme (E0ACME), org-wide" in page.text
    assert [row["enterprise_id"] for row in installations(db)] == ["E0ACME"]


def test_token_mode_has_no_install_pages(settings: Settings, db: Database, slack: FakeSlack) -> None:
    with running_app(settings, db, slack) as token_mode:
        assert get(f"{token_mode.url}/slack/install").status == 404
        assert get(f"{token_mode.url}/slack/oauth_redirect?code=x&state=y").status == 404
    assert installations(db) == []


def test_the_install_pages_answer_get_only(app: RunningApp) -> None:
    request = urllib.request.Request(f"{app.url}/slack/install", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405


# ---------------------------------------------------------------- requests and jobs from every workspace


def test_events_and_commands_from_any_workspace_of_the_organisation_use_its_installation(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    install(app, slack)
    (token,) = [row["bot_token"] for row in installations(db)]
    factories.person(db, "UBEN")
    slack.add_user("UBEN", team_id="T0002")
    slack.reset_calls()

    opened = {"type": "app_home_opened", "user": "UBEN", "channel": "DBEN", "tab": "home", "event_ts": "1.0"}
    assert workspace(app, "T0002").event(opened).status == 200
    assert workspace(app, "T0003").command("UBEN", "help").status == 200
    app.settle()

    (published,) = slack.calls_to("views.publish")
    assert published.params["user_id"] == "UBEN" and published.token == token
    assert_valid_view(published.params["view"])
    (reply,) = slack.calls_to("response_url")
    assert "Rollout Pulse" in reply.params["text"]
    assert {call.token for call in slack.calls if call.method == "auth.test"} == {token}


def test_a_request_from_a_workspace_the_app_is_not_installed_in_is_told_so(app: RunningApp, slack: FakeSlack) -> None:
    response = workspace(app, "T0002").command("UBEN", "help")
    app.settle()

    assert response.status == 200
    (reply,) = slack.calls_to("response_url")
    assert reply.params["text"].startswith("Rollout Pulse is not installed where you are in Slack.")
    assert "/slack/install" in reply.params["text"]


def test_two_workspaces_of_one_organisation_answer_one_pulse_round(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    install(app, slack)
    (token,) = [row["bot_token"] for row in installations(db)]
    for user_id, team_id in (("UANNA", "T0001"), ("UBEN", "T0002")):
        factories.person(db, user_id, tz="Europe/Berlin")
        slack.add_user(user_id, team_id=team_id, tz="Europe/Berlin")

    with freeze_time(TUESDAY_MORNING):
        run = run_pulse_job(db, app.services.messenger, app.services.behaviour)
    with freeze_time("2026-11-24 09:05"):
        for user_id, team_id in (("UANNA", "T0001"), ("UBEN", "T0002")):
            message = dm(slack, user_id)
            button = buttons(message)["pulse_answer:capability:3"]
            response = workspace(app, team_id).block_action(
                user_id, button["action_id"], button["value"], channel_id="D" + user_id[1:], message_ts=message["ts"]
            )
            assert response.status == 200
            app.settle()

    assert run.sent == 2
    assert {call.token for call in slack.calls_to("chat.postMessage")} == {token}  # the organisation's token
    assert stored.answers(db, PSEUDONYM_KEY.encode()) == [("capability", 4.0), ("capability", 4.0)]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(PulseRound)) == 1
        assert session.scalar(select(func.count(func.distinct(Response.round_id)))) == 1
    for user_id in ("UANNA", "UBEN"):
        updated = dm(slack, user_id)
        assert_valid_message(updated["text"], updated["blocks"])
        assert "1 of 6 answered" in str(updated["blocks"])


def test_a_workspace_install_reaches_only_its_own_people(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    # What the org-wide install is for: one workspace's token cannot DM the organisation's other workspaces.
    install(app, slack, Install(team_id="T0001", team_name="Sales", enterprise_id="E0ACME", enterprise_name="Acme"))
    for user_id, team_id in (("UANNA", "T0001"), ("UBEN", "T0002")):
        factories.person(db, user_id, tz="Europe/Berlin")
        slack.add_user(user_id, team_id=team_id, tz="Europe/Berlin")

    with freeze_time(TUESDAY_MORNING):
        run = run_pulse_job(db, app.services.messenger, app.services.behaviour)

    assert run.sent == 1
    assert [m["channel"] for m in slack.messages["DANNA"]] == ["DANNA"] and slack.messages.get("DBEN", []) == []


def oauth_environment(database_url: str, slack: FakeSlack, **extra: str) -> dict[str, str]:
    """What an operator sets for OAuth mode: the client id and secret, no bot token."""
    return {"DATABASE_URL": database_url, "SLACK_API_URL": slack.url, "SLACK_CLIENT_ID": CLIENT_ID,
            "SLACK_CLIENT_SECRET": CLIENT_SECRET, **extra}


def pulse(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], environment: dict[str, str],
          *args: str) -> tuple[int, str, str]:
    """`pulse …` run as an operator would with `environment` set: (exit code, stdout, stderr)."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_the_roster_is_read_from_every_workspace_of_the_organisation(
    app: RunningApp, db: Database, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path,
) -> None:
    install(app, slack)
    (token,) = [row["bot_token"] for row in installations(db)]
    slack.add_user("UANNA", email="anna@example.com", team_id="T0001")
    slack.add_user("UBEN", email="ben@example.com", team_id="T0002")
    roster = tmp_path / "roster.csv"
    roster.write_text("email,team\nanna@example.com,Sales\nben@example.com,Sales/EMEA\n", encoding="utf-8")
    code, out, err = pulse(monkeypatch, capsys, oauth_environment(database_url, slack), "roster", "import", str(roster))

    assert (code, err) == (0, "")
    assert out.startswith("Imported 2 people (2 new, 0 updated, 0 deactivated)")
    listed = slack.calls_to("users.list")
    assert sorted(call.params["team_id"] for call in listed) == ["T0001", "T0002"]  # one workspace at a time
    assert {call.token for call in listed} == {token}
    with db.session() as session:
        assert sorted(session.scalars(select(Person.slack_user_id))) == ["UANNA", "UBEN"]


def test_user_group_sync_on_an_org_wide_install_reads_each_workspaces_groups(
    app: RunningApp, db: Database, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], database_url: str, tmp_path: Path,
) -> None:
    install(app, slack)
    (token,) = [row["bot_token"] for row in installations(db)]
    slack.add_user("UANNA", real_name="Anna Berg", team_id="T0001")
    slack.add_user("UBEN", real_name="Ben Ode", team_id="T0002")
    slack.add_user_group("sales", ["UANNA"], team_id="T0001")
    slack.add_user_group("legal", ["UBEN"], team_id="T0002")
    behaviour = tmp_path / "behaviour.yml"
    behaviour.write_text("roster:\n  source: usergroups\n  teams:\n    Sales: sales\n    Legal: legal\n", encoding="utf-8")
    environment = oauth_environment(database_url, slack, PULSE_PSEUDONYM_KEY=PSEUDONYM_KEY, PULSE_CONFIG=str(behaviour))
    code, out, err = pulse(monkeypatch, capsys, environment, "roster", "sync")

    assert (code, err) == (0, ""), out
    assert "Anna Berg (UANNA) to Sales" in out and "Ben Ode (UBEN) to Legal" in out
    # An org-wide token names the workspace of every user-group call (Slack refuses it otherwise).
    listed = slack.calls_to("usergroups.list")
    assert sorted(call.params["team_id"] for call in listed) == ["T0001", "T0002"]
    members = slack.calls_to("usergroups.users.list")
    assert sorted((call.params["usergroup"], call.params["team_id"]) for call in members) == sorted(
        (group_id, group["team_id"]) for group_id, group in slack.user_groups.items()
    )
    assert {call.token for call in [*listed, *members]} == {token}
    with db.session() as session:
        placed = session.execute(select(Person.slack_user_id, Team.path).join(Team, Team.id == Person.team_id)).all()
    assert sorted(placed) == [("UANNA", "Sales"), ("UBEN", "Legal")]


# ---------------------------------------------------------------- uninstall, revocation, rotation


@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_uninstalled", "event_ts": "1.0"},
        {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}, "event_ts": "1.0"},
    ],
    ids=["app_uninstalled", "tokens_revoked"],
)
def test_an_uninstall_or_a_revoked_token_removes_the_installation_and_jobs_say_so(
    app: RunningApp, db: Database, slack: FakeSlack, event: dict, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], database_url: str,
) -> None:
    install(app, slack)
    factories.person(db, "UANNA")

    assert workspace(app, "T0002").event(event).status == 200
    app.settle()

    assert installations(db) == []
    with db.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(BOTS)).scalar_one() == 0
    environment = oauth_environment(database_url, slack, PULSE_PSEUDONYM_KEY=PSEUDONYM_KEY)
    code, _, err = pulse(monkeypatch, capsys, environment, "jobs", "run", "pulse", "--force")
    assert code == 1
    assert err.startswith("pulse: Rollout Pulse is not installed in Slack yet: open /slack/install")
    assert len(err.splitlines()) == 1
    assert slack.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("first", ["job", "request"])
def test_an_expiring_token_is_refreshed_once_and_the_new_one_used(
    app: RunningApp, db: Database, slack: FakeSlack, first: str
) -> None:
    """Whichever needs the token first within two hours of its expiry refreshes it: a scheduled
    job (through the installation store) or a request (Bolt's authorize); the other then finds
    the new token in the database."""
    rotating = Install(team_id=None, team_name=None, enterprise_id="E0ACME", enterprise_name="Acme", org_wide=True,
                       rotating=True)
    with freeze_time("2026-11-23 20:00") as clock:
        install(app, slack, rotating)
        (installed,) = installations(db)
        factories.person(db, "UANNA")
        slack.add_user("UANNA", team_id="T0002")
        # Eleven hours on, the token has an hour left: less than the two hours it is refreshed within.
        clock.tick(11 * 60 * 60)
        if first == "request":
            assert workspace(app, "T0002").command("UANNA", "help").status == 200
            app.settle()
        run = run_pulse_job(db, app.services.messenger, app.services.behaviour, force=True)
        (refreshed,) = installations(db)
        clock.tick(2 * 60 * 60)  # the first token has expired by now; requests go on working
        assert workspace(app, "T0002").command("UANNA", "help").status == 200
        app.settle()

    (refresh,) = [call for call in slack.calls_to("oauth.v2.access") if call.params.get("grant_type") == "refresh_token"]
    assert refresh.params["refresh_token"] == installed["bot_refresh_token"]
    assert refreshed["bot_token"] != installed["bot_token"] and refreshed["bot_token"].startswith("xoxe.xoxb-")
    assert refreshed["bot_refresh_token"] != installed["bot_refresh_token"]
    # Stored as slack_sdk stores it: naive UTC. Issued at 20:00 for twelve hours, refreshed at 07:00.
    assert (installed["bot_token_expires_at"], refreshed["bot_token_expires_at"]) == (
        dt.datetime(2026, 11, 24, 8, 0), dt.datetime(2026, 11, 24, 19, 0)
    )
    assert run.sent == 1
    assert {call.token for call in slack.calls_to("chat.postMessage")} == {refreshed["bot_token"]}
    replies = [call.params["text"] for call in slack.calls_to("response_url")]
    assert replies and all("Rollout Pulse" in text and "not installed" not in text for text in replies)


# ---------------------------------------------------------------- settings and pulse check


def test_oauth_mode_names_every_missing_setting_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", CLIENT_ID)
    with pytest.raises(SystemExit) as exit_info:
        main(["clock"])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == (
        "pulse: SLACK_CLIENT_SECRET and PULSE_PSEUDONYM_KEY are not set; they are required for pulse clock\n"
    )


def test_pulse_check_in_oauth_mode_looks_for_the_installation(
    app: RunningApp, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    database_url: str,
) -> None:
    environment = oauth_environment(database_url, slack, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                                    PULSE_PSEUDONYM_KEY=PSEUDONYM_KEY, PULSE_COUNCIL_CHANNEL="C0COUNCIL")
    slack.add_channel("C0COUNCIL", "ai-council")

    def check() -> tuple[int, list[str], list[str]]:
        code, out, err = pulse(monkeypatch, capsys, environment, "check")
        return code, out.splitlines(), err.splitlines()

    code, out, err = check()
    assert code == 1
    assert out[0] == (
        "ok: settings: SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_SIGNING_SECRET, PULSE_PSEUDONYM_KEY, "
        "PULSE_COUNCIL_CHANNEL set; behaviour built-in"
    )
    assert err == [
        "problem: Slack: no installation yet: open /slack/install on the app's address (pulse serve) and install "
        "the app, org-wide on Enterprise Grid"
    ]

    install(app, slack)
    code, out, err = check()
    assert (code, err) == (0, [])
    assert "ok: install: OAuth mode: installed for the organisation Acme (E0ACME), org-wide" in out
    assert "ok: Slack: the token works for @pulse in Acme (auth.test)" in out
    assert "ok: council channel: the bot is a member of #ai-council (C0COUNCIL)" in out
