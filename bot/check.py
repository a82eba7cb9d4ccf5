"""`pulse check`: everything a deployment needs, checked in one run, every problem named at once.

Settings (those serve and the clock cannot run without, and the behaviour file), the bot token
(auth.test), the scopes it was granted against those manifest.yml asks for, the bot's place in
the council channel, and the database (it answers, and its schema is current). A check that
cannot run because an earlier one failed says so instead of adding a second problem.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.db import cannot_reach, connection_problem, first_line, make_engine
from bot.settings import Settings, inspect_settings
from bot.slack.check import Finding, check_slack

# What a deployment (pulse serve and pulse clock) cannot do without, and what each is for.
NEEDED = {
    "slack_bot_token": "the Bot User OAuth Token (xoxb-…) from the app's Install App page",
    "slack_client_id": "the Client ID from the app's Basic Information page (App Credentials)",
    "slack_client_secret": "the Client Secret from the app's Basic Information page (App Credentials)",
    "slack_signing_secret": "the Signing Secret from the app's Basic Information page",
    "pulse_pseudonym_key": "a secret of 16 or more characters, kept stable (answers are sealed with it)",
    "pulse_council_channel": "the council channel's ID (channel details, at the bottom of About), e.g. C0123ABCD",
}


def run_checks(**overrides: object) -> list[Finding]:
    settings, problems, unusable = inspect_settings(**overrides)
    findings = [Finding("settings", False, problem) for problem in problems]
    findings += _required(settings, unusable)
    if "behaviour" not in unusable:
        findings += [Finding("question bank", True, line) for line in settings.behaviour.switched_off()]
    database = Finding("database", None, "not checked: fix DATABASE_URL first")
    if "database_url" not in unusable:
        database = _database(settings.database_url)
    channel = None if "pulse_council_channel" in unusable else settings.pulse_council_channel
    credentials = settings.slack_credentials
    if unusable & {*credentials, "slack_api_url"}:
        findings.append(Finding("Slack", None, "not checked: fix the Slack settings first"))
    elif settings.missing(*credentials):
        findings.append(Finding("Slack", None, f"not checked: {' and '.join(settings.missing(*credentials))} not set"))
    elif settings.oauth:
        findings += _installed(settings, database, channel)
    else:
        assert settings.slack_bot_token is not None
        findings += check_slack(settings.slack_bot_token, settings.slack_api_url, channel)
    findings.append(database)
    return findings


def _installed(settings: Settings, database: Finding, channel: str | None) -> list[Finding]:
    """OAuth mode: the bot token is the installation's, kept in the database."""
    from bot.db import Database
    from bot.slack.installations import Installations, check_installation

    if database.ok is not True:
        return [Finding("Slack", None, "not checked: the installation is kept in the database; fix it first")]
    db = Database(settings.database_url)
    try:
        token, where = check_installation(Installations(settings, db.engine))
    finally:
        db.dispose()
    if token is None:
        return [Finding("Slack", False, where)]
    return [
        Finding("install", True, f"OAuth mode: installed for {where}"),
        *check_slack(token, settings.slack_api_url, channel, token_name="the installation's bot token"),
    ]


def _required(settings: Settings, unusable: set[str]) -> list[Finding]:
    other = {"slack_bot_token", "slack_client_id", "slack_client_secret"} - set(settings.slack_credentials)
    needed = [name for name in NEEDED if name not in other]
    missing = [name for name in needed if getattr(settings, name) is None and name not in unusable]
    findings = [
        Finding("settings", False, f"{name.upper()} is not set: set it to {NEEDED[name]}") for name in missing
    ]
    present = [name.upper() for name in needed if getattr(settings, name) is not None and name not in unusable]
    if present:
        behaviour = "" if "behaviour" in unusable else "; behaviour " + (
            f"from {settings.pulse_config} valid" if settings.pulse_config else "built-in"
        )
        findings.insert(0, Finding("settings", True, f"{', '.join(present)} set{behaviour}"))
    return findings


def _database(url: str) -> Finding:
    from bot.migrate import revisions

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") and not Path(parsed.database).exists():
        # Not opened: opening would leave an empty file behind.
        return Finding("database", False, f"{_where(url)} does not exist yet: run `pulse db upgrade` to create it")
    problem = connection_problem(url)
    if problem is not None:
        return Finding("database", False, cannot_reach(url, problem))
    engine = make_engine(url)
    try:
        current, head, known = revisions(engine)
    except SQLAlchemyError as error:
        return Finding("database", False, f"cannot read its schema version: {first_line(error)}")
    finally:
        engine.dispose()
    where = _where(url)
    if current is None:
        return Finding("database", False, f"{where} has no tables yet: run `pulse db upgrade`")
    if not known:
        return Finding(
            "database", False, f"{where} has schema {current}, which this version does not know: run the version that migrated it"
        )
    if current != head:
        return Finding(
            "database", False, f"{where} has schema {current}, this version needs {head}: run `pulse db upgrade`"
        )
    return Finding("database", True, f"{where} answers; its schema is current ({head})")


def _where(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite database {parsed.database}"
    port = f":{parsed.port}" if parsed.port else ""
    return f"the database at {parsed.host or 'localhost'}{port} (database {parsed.database})"
