"""The `pulse` command. Exit codes: 0 success, 1 failure with a one-line reason, 2 usage."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from bot import progress
from bot.errors import PulseError, SettingsError
from bot.settings import Settings, load_settings
from bot.weeks import IsoWeek

F = TypeVar("F", bound=Callable[..., Any])

# The settings each command cannot run without (README lists them); DATABASE_URL has a default.
REQUIRED: dict[str, tuple[str, ...]] = {
    "serve": ("slack_bot_token", "slack_signing_secret", "pulse_pseudonym_key"),
    "socket": ("slack_bot_token", "slack_app_token", "pulse_pseudonym_key"),
    "clock": ("slack_bot_token", "pulse_pseudonym_key"),
    "jobs run": ("slack_bot_token", "pulse_pseudonym_key"),
    "roster": ("slack_bot_token",),
    "reports": ("pulse_pseudonym_key",),
}


@contextmanager
def _progress_on_terminal() -> Iterator[None]:
    """Long work run by hand shows how far it has got, on one line of a terminal's stderr; piped
    or redirected (cron, a script, CI), nothing is shown."""
    stream = sys.stderr
    if not stream.isatty():
        yield
        return
    shown = False

    def show(what: str, done: int, total: int | None) -> None:
        nonlocal shown
        counted = f"{done:,} of {total:,}" if total else f"{done:,}"
        click.echo(f"\r{what}: {counted}\x1b[K", nl=False, file=stream)
        shown = True

    try:
        with progress.reporting(show):
            yield
    finally:
        if shown:
            click.echo("", file=stream)


def _settings() -> Settings:
    return load_settings()


def _database(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.db import Database

    return Database(settings.database_url)


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)


class _IsoWeekParam(click.ParamType):
    name = "YYYY-Www"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> IsoWeek:
        if isinstance(value, IsoWeek):
            return value
        try:
            return IsoWeek.parse(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


class _DateParam(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        try:
            if len(text) != 10:
                raise ValueError
            return dt.date.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-23", param, ctx)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Rollout Pulse: a weekly pulse on whether your AI rollout works for the people who use it."""


# ---------------------------------------------------------------- db


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations (alembic upgrade head)."""
    from bot.db import cannot_reach, connection_problem
    from bot.migrate import upgrade

    settings = _settings()
    database = _database(settings)
    try:
        with _progress_on_terminal():
            upgrade(database.engine, min_group_size=settings.behaviour.min_group_size, pseudonym_key=settings.pulse_pseudonym_key)
    except PulseError:
        raise
    except Exception as error:  # noqa: BLE001 — a database refusing is reported in one line
        problem = connection_problem(settings.database_url)
        if problem is not None:
            raise PulseError(cannot_reach(settings.database_url, problem)) from None
        raise PulseError(f"database upgrade failed: {type(error).__name__}: {str(error).splitlines()[0]}") from None
    finally:
        database.dispose()
    click.echo("Database is up to date.")


# ---------------------------------------------------------------- roster


@cli.group()
def roster() -> None:
    """People, teams, managers and council members."""


def _directory(settings: Settings, database):  # type: ignore[no-untyped-def]
    from bot.slack.installations import slack_directory

    settings.require(*REQUIRED["roster"], purpose="to look people up in Slack")
    return slack_directory(settings, database.engine)


@roster.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file against Slack and report; write nothing.")
def roster_import(file: Path, dry_run: bool) -> None:
    """Load people, teams, managers and council from FILE.csv (all or nothing)."""
    from bot.roster.service import RosterInvalid, import_roster_file

    settings = _settings()
    behaviour = settings.behaviour
    database = _database(settings)
    try:
        with _progress_on_terminal():
            result = import_roster_file(
                database,
                file,
                _directory(settings, database),
                away=behaviour.away_status,
                dry_run=dry_run,
                groups_win=behaviour.roster.groups_win,
                pulse_day=behaviour.schedule.pulse_day,
            )
    except RosterInvalid as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        raise
    click.echo(result.summary())


@roster.command("sync")
@click.option("--dry-run", is_flag=True, help="Read Slack and report what would change; change nothing.")
def roster_sync(dry_run: bool) -> None:
    """Refresh the roster from Slack: user groups when mapped, time zones, away statuses, deactivations."""
    from bot.roster.daily import sync_from_slack
    from bot.roster.usergroups import MappingRefused
    from bot.slack.usergroups import user_groups_of

    settings = _settings()
    database = _database(settings)
    directory = _directory(settings, database)
    try:
        with _progress_on_terminal():
            result = sync_from_slack(
                database, directory, user_groups_of(directory), settings.behaviour, dry_run=dry_run
            )
    except MappingRefused as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        raise
    for line in result.lines():
        click.echo(line)


# ---------------------------------------------------------------- rollouts


@cli.group()
def rollout() -> None:
    """Rollouts: a tool or workflow, its go-live date and the teams it covers."""


@rollout.command("add")
@click.argument("name")
@click.option("--go-live", "go_live", required=True, type=_DateParam(), help="The go-live date, e.g. 2026-11-23.")
@click.option(
    "--teams", required=True, metavar="A,B", help="Comma-separated team paths from the roster; sub-teams are covered too."
)
def rollout_add(name: str, go_live: dt.date, teams: str) -> None:
    """Add rollout NAME going live on a date for some teams."""
    from bot.rollouts.service import add_rollout

    settings = _settings()
    rules = settings.behaviour.rollouts
    info = add_rollout(_database(settings), name, go_live, teams.split(","), window_days=rules.window_days)
    click.echo(
        f"Added rollout {info.name}: go-live {info.go_live.isoformat()} (ISO week {IsoWeek.of(info.go_live)}), "
        f"covering {', '.join(info.teams)} and their sub-teams."
    )


@rollout.command("list")
def rollout_list() -> None:
    """List rollouts: go-live, weeks since go-live, teams, and whether each is in its early-life window."""
    from bot.rollouts.service import list_rollouts
    from bot.rollouts.views import rollout_table

    settings = _settings()
    window_days = settings.behaviour.rollouts.window_days
    rollouts = list_rollouts(_database(settings), window_days=window_days)
    if not rollouts:
        click.echo("No rollouts yet. Add one with: pulse rollout add NAME --go-live YYYY-MM-DD --teams A,B")
        return
    click.echo(rollout_table(rollouts, window_days))


# ---------------------------------------------------------------- running


def _services(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.slack.services import make_services  # not bot.slack.app: a job needs no Bolt app

    return make_services(settings, _database(settings))


def _job_context(settings: Settings, services):  # type: ignore[no-untyped-def]
    from bot.clock import JobContext

    # OAuth mode: a job stops in one line while the app is not installed, before it claims anything.
    ready = services.installations.bot_token if services.installations is not None else None
    return JobContext(settings, services.db, services.messenger, ready=ready)


@cli.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=3000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Serve POST /slack/events and GET /healthz over HTTP (gunicorn)."""
    from gunicorn.app.base import BaseApplication

    settings = _settings()
    settings.require(*REQUIRED["serve"], purpose="for pulse serve")
    _say_what_the_bank_leaves_out(settings)

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 8)
            self.cfg.set("accesslog", None)

        def load(self) -> Any:
            from bot.slack.web import create_app

            return create_app()

    _Server().run()


def _say_what_the_bank_leaves_out(settings: Settings) -> None:
    """Once, as a process starts: the alerts and figures a question bank switched off."""
    for line in settings.behaviour.switched_off():
        click.echo(f"pulse: note: {line}", err=True)


@cli.command()
def socket() -> None:
    """Socket Mode and the scheduler in one process (local use, no public URL needed).

    Needs SLACK_APP_TOKEN and SLACK_BOT_TOKEN, not the signing secret. Stops on SIGTERM or Ctrl-C,
    after the work of every request it acknowledged.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.clock import schedule_jobs
    from bot.slack.socket_mode import SocketMode

    settings = _settings()
    settings.require(*REQUIRED["socket"], purpose="for pulse socket (Socket Mode)")
    settings.pseudonym_key  # noqa: B018 — fail here, not at the first click
    _say_what_the_bank_leaves_out(settings)
    services = _services(settings)
    connection = SocketMode(services)
    _configure_logging()
    connection.connect()
    scheduler = BackgroundScheduler(timezone="UTC")
    schedule_jobs(scheduler, _job_context(settings, services))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler.start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        connection.close()
        scheduler.shutdown(wait=False)


@cli.command()
def clock() -> None:
    """The scheduler alone (the Procfile's clock process)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from bot.clock import schedule_jobs

    settings = _settings()
    settings.require(*REQUIRED["clock"], purpose="for pulse clock")
    _say_what_the_bank_leaves_out(settings)
    services = _services(settings)
    _configure_logging()
    scheduler = BlockingScheduler(timezone="UTC")
    schedule_jobs(scheduler, _job_context(settings, services))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


@cli.group()
def jobs() -> None:
    """Scheduled jobs, run by hand."""


@jobs.command("run")
@click.argument("name", type=click.Choice(["pulse", "reminders", "explainers", "digest", "questions", "retention", "roster"]))
@click.option("--force", is_flag=True, help="Ignore the day and time of day the schedule would wait for.")
@click.option("--week", type=_IsoWeekParam(), default=None, help="The ISO week to run for, e.g. 2026-W48.")
def jobs_run(name: str, force: bool, week: IsoWeek | None) -> None:
    """Run one scheduled job now, exactly as the scheduler would."""
    from bot.clock import run_job

    settings = _settings()
    needs = REQUIRED["jobs run"] + (("pulse_council_channel",) if name in ("digest", "questions") else ())
    settings.require(*needs, purpose=f"for pulse jobs run {name}")
    services = _services(settings)
    with _progress_on_terminal():
        result = run_job(name, _job_context(settings, services), force=force, week=week)
    if not result.ok:
        # Exit 1, so whatever runs the job (cron, a monitor) notices.
        raise PulseError(result.summary())
    click.echo(result.summary())


@cli.group()
def digest() -> None:
    """The council digest."""


@digest.command("show")
@click.option("--week", type=_IsoWeekParam(), default=None, help="The ISO week to report on (default: the week just ended).")
def digest_show(week: IsoWeek | None) -> None:
    """Print the council digest in the terminal."""
    from bot.reports.digest import build_digest
    from bot.reports.posting import reported_week
    from bot.reports.render import render_digest
    from bot.weeks import now

    settings = _settings()
    settings.require(*REQUIRED["reports"], purpose="to read the released figures")
    reported = week or reported_week(settings, now(), force=True)
    assert reported is not None
    # The terminal reads English, as the rest of the CLI does.
    result, _ = build_digest(_database(settings), settings.behaviour, settings.explainers, reported, settings.pseudonym_key, lang="en")
    click.echo(render_digest(result))


@cli.command("export")
@click.argument("kind", type=click.Choice(["participation", "scores", "hidden-work"]))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="The CSV file to write.")
@click.option("--week", type=_IsoWeekParam(), default=None, help="The last week to include (default: the week just ended).")
@click.option("--weeks", default=12, show_default=True, type=click.IntRange(1, 104), help="How many weeks back.")
def export_command(kind: str, out: Path, week: IsoWeek | None, weeks: int) -> None:
    """Write released weekly figures as CSV: the same figures the digest reads."""
    from bot.reports.export import export
    from bot.reports.posting import reported_week
    from bot.weeks import now

    settings = _settings()
    settings.require(*REQUIRED["reports"], purpose="to read the released figures")
    until = week or reported_week(settings, now(), force=True)
    assert until is not None
    rows = export(_database(settings), settings.behaviour, settings.pseudonym_key, kind, out, until=until, weeks=weeks)
    click.echo(f"Wrote {rows} rows of {kind} to {out}.")


@cli.command()
def check() -> None:
    """Check settings, the bot token and its scopes, the council channel and the database; name
    every problem at once, with its fix."""
    from bot.check import run_checks

    findings = run_checks()
    for finding in findings:
        if finding.ok is False:
            click.echo(f"problem: {finding.subject}: {finding.text}", err=True)
        else:
            click.echo(f"{'ok' if finding.ok else 'skipped'}: {finding.subject}: {finding.text}")
    if any(finding.ok is False for finding in findings):
        sys.exit(1)


@cli.command()
@click.option("--folder", type=click.Path(path_type=Path), default=Path("pulse-demo"), show_default=True,
              help="Where the demo's SQLite file is written (replaced on every run).")
def demo(folder: Path) -> None:
    """Run a synthetic organisation through the real services; no Slack needed."""
    from bot.demo import run_demo

    run_demo(folder)


def _database_failure(error: SQLAlchemyError) -> str:
    """One line for a database error: the database cannot be reached (which one, and why), or its
    schema is older than this version (then, and only then, `pulse db upgrade`), or the error."""
    from bot.db import cannot_reach, connection_problem, first_line, make_engine
    from bot.migrate import revisions

    reason = first_line(error)
    try:
        url = load_settings().database_url
    except PulseError:
        return f"database error: {reason}"
    problem = connection_problem(url)
    if problem is not None:
        return cannot_reach(url, problem)
    engine = make_engine(url)
    try:
        current, head, _ = revisions(engine)
    except SQLAlchemyError:
        return f"database error: {reason}"
    finally:
        engine.dispose()
    if current is None:
        return f"database error: {reason} (the database has no tables yet: run `pulse db upgrade`)"
    if current != head:
        return f"database error: {reason} (the schema is at {current}, this version needs {head}: run `pulse db upgrade`)"
    return f"database error: {reason}"


def main(argv: list[str] | None = None) -> None:
    # A one-shot command reports in its own lines; the log lines its services write go nowhere
    # unless a long-running command (serve, socket, clock) configures logging.
    logging.getLogger("bot").addHandler(logging.NullHandler())
    try:
        cli.main(args=argv, prog_name="pulse", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("pulse: aborted", err=True)
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except SettingsError as error:
        click.echo(f"pulse: {error}", err=True)
        sys.exit(1)
    except PulseError as error:
        click.echo(f"pulse: {str(error).splitlines()[0]}", err=True)
        sys.exit(1)
    except SQLAlchemyError as error:
        click.echo(f"pulse: {_database_failure(error)}", err=True)
        sys.exit(1)
    sys.exit(0)
