"""`pulse demo`: a synthetic organisation run through the real services, printed in the terminal.

No Slack and no settings are needed: the roster goes through the real CSV import against a
made-up Slack directory, pulses go out through the real pulse and reminder jobs to a messenger
that keeps them in memory, and synthetic people answer through the same `record_answer` a click
reaches.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import random
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.db import Database, first_line
from bot.errors import PulseError
from bot.explainers.library import Explainer
from bot.explainers.views import CouncilQuestion
from bot.messenger import DeliveryKind, MessageRef
from bot.migrate import upgrade
from bot.explainers.library import Library, load_library
from bot.explainers.service import record_feedback, run_explainer_job
from bot.labour.service import log_hidden_work
from bot.reports.digest import build_digest
from bot.reports.digest_model import Digest
from bot.release.service import final_at
from bot.reports.render import render_digest
from bot.rollouts.service import add_rollout
from bot.reports.weekly import WeekOverview, week_overview
from bot.roster.directory import SlackUser
from bot.roster.service import import_roster, parse_roster
from bot.settings import Behaviour, load_behaviour
from bot.surveys import service
from bot.surveys.views import PulseView
from bot.weeks import UTC, IsoWeek, now

# Team path -> (people, time zone). Legal is deliberately below the minimum group size.
ORGANISATION = {
    "Sales/EMEA": (10, "Europe/Berlin"),
    "Sales/Americas": (9, "America/New_York"),
    "Finance": (8, "Europe/London"),
    "Operations/Support": (11, "Asia/Kolkata"),
    "Operations/Logistics": (8, "America/Los_Angeles"),
    "Engineering/Platform": (9, "Europe/Berlin"),
    "Engineering/Data": (7, "Asia/Tokyo"),
    "Legal": (3, "Europe/London"),
}
LEVELS = ("entry", "experienced", "experienced", "lead")
WEEKS = 12
ROLLOUTS = (  # name, teams, go-live as weeks after the first demo week
    ("Forecast copilot", ("Sales",), 0),
    ("Support assistant", ("Operations",), 3),
)
WORK = ("validation", "prompting", "cleanup", "exceptions", "workaround")


@dataclass
class MemoryDirectory:
    """Slack's user directory for the synthetic organisation."""

    users: list[SlackUser]

    def all_users(self) -> Iterator[SlackUser]:
        return iter(self.users)


@dataclass
class MemoryMessenger:
    """Keeps what would have been sent; the demo's people read their pulses from here."""

    inbox: dict[str, list[PulseView]] = field(default_factory=dict)
    reminders: int = 0
    explainers: dict[str, list[Explainer]] = field(default_factory=dict)
    questions: list[CouncilQuestion] = field(default_factory=list)
    charts: list[tuple[str, str, bytes]] = field(default_factory=list)  # (channel, title, png)
    digests: list[Digest] = field(default_factory=list)
    comments: dict[str, list[str]] = field(default_factory=dict)  # week → the comments posted in its thread
    delivered: dict[tuple[str, int], MessageRef] = field(default_factory=dict)  # (kind, delivery id)

    def send_pulse(self, user_id: str, pulse: PulseView, *, delivery_id: int, lang: str = "en") -> MessageRef:
        self.inbox.setdefault(user_id, []).append(pulse)
        return self._delivered("pulse", delivery_id, MessageRef(channel="D" + user_id[1:], ts=f"{delivery_id}.000100"))

    def update_pulse(self, ref: MessageRef, pulse: PulseView, *, lang: str = "en") -> None:
        pass

    def send_reminder(self, user_id: str, pulse: PulseView, *, delivery_id: int, lang: str = "en") -> MessageRef:
        self.reminders += 1
        return self._delivered("reminder", delivery_id, MessageRef(channel="D" + user_id[1:], ts=f"{delivery_id}.000200"))

    def send_explainer(self, user_id: str, explainer: Explainer, *, delivery_id: int, lang: str = "en") -> MessageRef:
        self.explainers.setdefault(user_id, []).append(explainer)
        return self._delivered("explainer", delivery_id, MessageRef(channel="D" + user_id[1:], ts=f"{delivery_id}.000300"))

    def find_delivery(
        self, user_id: str, *, delivery_id: int, kind: DeliveryKind, since: dt.datetime
    ) -> MessageRef | None:
        return self.delivered.get((kind, delivery_id))

    def _delivered(self, kind: DeliveryKind, delivery_id: int, ref: MessageRef) -> MessageRef:
        self.delivered[(kind, delivery_id)] = ref
        return ref

    def post_question(self, channel: str, question: CouncilQuestion, *, lang: str = "en") -> MessageRef:
        self.questions.append(question)
        return MessageRef(channel=channel, ts=f"{question.question_id}.000400")

    def upload_chart(self, channel: str, png: bytes, *, title: str, thread_ts: str | None = None) -> None:
        self.charts.append((channel, title, png))

    def post_digest(self, channel: str, digest: Digest) -> MessageRef:
        self.digests.append(digest)
        return MessageRef(channel=channel, ts=f"{len(self.digests)}.000500")

    def post_comments(
        self,
        channel: str,
        thread_ts: str,
        week: str,
        comments: Sequence[str],
        *,
        skip: int,
        posted: Callable[[int], None],
        lang: str = "en",
    ) -> None:
        self.comments[week] = list(comments)
        posted(1)

    def find_digest(self, channel: str, week: str, *, since: dt.datetime) -> MessageRef | None:
        for number, digest in enumerate(self.digests, start=1):
            if digest.week == week:
                return MessageRef(channel=channel, ts=f"{number}.000500")
        return None

    def post_digest_thread(self, ref: MessageRef, digest: Digest, chart: bytes | None, *, resume: bool) -> None:
        # The terminal shows the whole digest at once; only the chart goes out on its own.
        if chart is not None:
            self.upload_chart(ref.channel, chart, title=f"Trends to {digest.week}", thread_ts=ref.ts)


def _organisation() -> tuple[str, list[SlackUser], dict[str, str]]:
    lines = ["user_id,team,manages,level,council"]
    users = []
    teams: dict[str, str] = {}
    number = 0
    for team, (size, tz) in ORGANISATION.items():
        for seat in range(size):
            number += 1
            user_id = f"UDEMO{number:04d}"
            manages = team if seat == 0 else ""
            council = "yes" if seat == 0 and team.startswith(("Operations", "Finance")) else "no"
            lines.append(f"{user_id},{team},{manages},{LEVELS[seat % len(LEVELS)]},{council}")
            users.append(SlackUser(user_id, f"person{number}@demo.example", tz, False, False, "", "", None))
            teams[user_id] = team
    return "\n".join(lines) + "\n", users, teams


def _dip(weeks_since_go_live: int | None) -> float:
    """How deep the go-live dip is for someone this many weeks after their rollout went live."""
    if weeks_since_go_live is None or weeks_since_go_live < 0:
        return 0.1
    return {0: 0.4, 1: 0.9, 2: 1.0, 3: 0.8, 4: 0.5, 5: 0.3}.get(weeks_since_go_live, 0.05)


def _answer(rng: random.Random, pulse: PulseView, weeks_since_go_live: int | None) -> dict[str, int]:
    """Synthetic answers with the 90-day dip: confidence falls after go-live, then recovers."""
    dip = _dip(weeks_since_go_live)
    chosen = {}
    for question in pulse.closed_questions:
        top = len(question.options) - 1
        if question.kind == "scale":
            centre = 3.3 - dip * 1.6  # an option index: 3.3 is a score of about 4.3
        elif question.key == "upkeep":
            centre = 1.5 + dip * 2
        elif question.key == "time_saved":
            centre = 2.5 - dip
        else:
            centre = top * (0.1 + dip * 0.4)
        spread = 0.9 if question.kind in ("scale", "hours") else 0.45
        chosen[question.key] = max(0, min(top, round(rng.gauss(centre, spread))))
    return chosen


class DemoFolderError(PulseError):
    """The demo's folder cannot be made or written to."""


def _prepare(folder: Path, out: io.TextIOBase | None) -> Path:
    """The demo's database file in `folder`, which is made if needed; an earlier demo's files are
    replaced, and the terminal is told so."""
    if folder.exists() and not folder.is_dir():
        raise DemoFolderError(f"cannot use {folder} as the demo folder: it is a file; give a folder with --folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        database_file = folder / "demo.sqlite3"
        chart_file = folder / "pulse-trends.png"
        earlier = [path.name for path in (database_file, chart_file) if path.exists()]
        if earlier:
            print(f"Replacing the earlier demo's {' and '.join(earlier)} in {folder}.", file=out)
        database_file.unlink(missing_ok=True)
        chart_file.unlink(missing_ok=True)
    except OSError as error:
        why = error.strerror or type(error).__name__
        if isinstance(error, NotADirectoryError | FileExistsError):
            why = "a file is in the way"
        raise DemoFolderError(f"cannot create the demo folder {folder}: {why}") from None
    return database_file


def run_demo(folder: Path, *, seed: int = 7, out: io.TextIOBase | None = None) -> list[WeekOverview]:
    """Build the organisation, run WEEKS weekly rounds ending this week, and print the overview."""
    database_file = _prepare(folder, out)
    # The chart's library loads while the weeks are run: it is the slowest import of all.
    charting = threading.Thread(target=importlib.import_module, args=("matplotlib.backends.backend_agg",), daemon=True)
    charting.start()
    chart_file = folder / "pulse-trends.png"
    db = Database(f"sqlite:///{database_file}")
    try:
        upgrade(db.engine)
    except SQLAlchemyError as error:
        raise DemoFolderError(f"cannot write the demo database {database_file}: {first_line(error)}") from None
    behaviour: Behaviour = load_behaviour(None)
    key = secrets.token_bytes(32)
    rng = random.Random(seed)

    csv_text, users, teams = _organisation()
    import_roster(db, parse_roster(csv_text), MemoryDirectory(users), away=behaviour.away_status)

    messenger = MemoryMessenger()
    # The weeks up to the one that just ended: an open week has no figures until it is released.
    this_week = IsoWeek.of(now().date())
    weeks = [this_week.shifted(offset) for offset in range(-WEEKS, 0)]
    for name, covered, offset in ROLLOUTS:
        add_rollout(db, name, weeks[offset].monday, list(covered), at=_wednesday(weeks[0]))
    library = load_library()
    overviews = []
    for index, week in enumerate(weeks):
        wednesday = _wednesday(week)
        service.run_pulse_job(db, messenger, behaviour, at=wednesday, force=True, week=week)
        _explainers_and_feedback(db, key, rng, messenger, behaviour, library, week, wednesday)
        _hidden_work(db, key, rng, users, index, wednesday)
        late = []
        for user_id, pulses in messenger.inbox.items():
            pulse = pulses[-1]
            if pulse.week != str(week):
                continue
            roll = rng.random()
            if roll < 0.05:
                service.skip_week(db, key, user_id, pulse.round_id, at=wednesday)
            elif roll < 0.70:
                _respond(db, key, user_id, pulse, _answer(rng, pulse, _since(teams[user_id], index)), wednesday)
            elif roll < 0.85:
                late.append((user_id, pulse))
        friday = wednesday + dt.timedelta(days=2)
        service.run_reminder_job(db, messenger, behaviour, key, at=friday, force=True, week=week)
        for user_id, pulse in late:
            _respond(db, key, user_id, pulse, _answer(rng, pulse, _since(teams[user_id], index)), friday)
    # Released as the digest job would, once the last week's pulse has closed.
    released_at = max(now(), final_at(str(weeks[-1])))
    for week in weeks:
        overview = week_overview(db, key, str(week), min_group_size=behaviour.min_group_size, at=released_at)
        assert overview is not None
        overviews.append(overview)
    _print(out, len(users), weeks, overviews, messenger, behaviour, database_file)
    charting.join()
    digest, chart = build_digest(db, behaviour, library, weeks[-1], key, at=released_at)
    print("\n" + render_digest(digest), file=out)
    if chart is not None:
        chart_file.write_bytes(chart)
        print(f"\nThe digest's 12-week trend chart is {chart_file}", file=out)
    db.dispose()
    return overviews


def _since(team: str, index: int) -> int | None:
    """Weeks since the go-live of the rollout covering this team, if any."""
    for _, covered, offset in ROLLOUTS:
        if any(team == root or team.startswith(root + "/") for root in covered):
            return index - offset
    return None


def _wednesday(week: IsoWeek) -> dt.datetime:
    return dt.datetime.combine(week.day(3), dt.time(12, 0), tzinfo=UTC)


def _explainers_and_feedback(
    db: Database,
    key: bytes,
    rng: random.Random,
    messenger: MemoryMessenger,
    behaviour: Behaviour,
    library: Library,
    week: IsoWeek,
    at: dt.datetime,
) -> None:
    """This week's explainers through the real job; about half the readers say if it helped."""
    before = {user_id: len(sent) for user_id, sent in messenger.explainers.items()}
    run_explainer_job(db, messenger, behaviour, library, at=at, force=True, week=week)
    for user_id, sent in messenger.explainers.items():
        for explainer in sent[before.get(user_id, 0) :]:
            if rng.random() < 0.5:
                record_feedback(db, key, user_id, explainer.key, rng.random() < 0.75, at=at)


def _hidden_work(db: Database, key: bytes, rng: random.Random, users: list[SlackUser], index: int, at: dt.datetime) -> None:
    """A third of people log hidden AI work, more of it in the weeks right after go-live."""
    for user in users:
        if rng.random() < 0.33:
            minutes = int(rng.choice((15, 30, 45, 60, 90)) * (1.6 if 1 <= index <= 5 else 1))
            log_hidden_work(db, key, user.user_id, minutes=minutes, category=rng.choice(WORK), at=at)


def _respond(db: Database, key: bytes, user_id: str, pulse: PulseView, chosen: dict[str, int], at: dt.datetime) -> None:
    service.record_answers(db, key, user_id, pulse.round_id, chosen, at=at)


def _print(
    out: io.TextIOBase | None,
    people: int,
    weeks: list[IsoWeek],
    overviews: list[WeekOverview],
    messenger: MemoryMessenger,
    behaviour: Behaviour,
    database_file: Path,
) -> None:
    def say(text: str = "") -> None:
        print(text, file=out)

    live = ", ".join(f"{name} in {weeks[offset]}" for name, _, offset in ROLLOUTS)
    say(f"Rollout Pulse demo: {people} people in {len(ORGANISATION)} teams, {len(weeks)} weekly rounds "
        f"({weeks[0]} to {weeks[-1]}); go-live of {live}.")
    say(f"Pulses sent through the real jobs: {sum(len(v) for v in messenger.inbox.values())}; reminders: {messenger.reminders}.")
    say()
    say(f"{'week':<9} {'sent':>4} {'answered':>8} {'rate':>5}  {'capability':>10} {'workload':>8}  {'net AI time':>11}  rotating")
    for overview in overviews:
        scores = {score.question: score for score in overview.scores}

        def figure(key: str) -> str:
            score = scores.get(key)
            return f"{score.mean:.1f}" if score else "–"

        rotating = ", ".join(
            f"{score.question} {score.mean:.1f}"
            for score in overview.scores
            if score.question not in {"capability", "workload", "time_saved", "upkeep"}
        )
        net = f"{overview.net_hours:+.1f} h" if overview.net_hours is not None else "–"
        rate = "–" if overview.response_rate is None else f"{overview.response_rate:.0%}"
        say(
            f"{overview.week:<9} {overview.sent or '–':>4} {overview.responded or '–':>8} {rate:>5}  "
            f"{figure('capability'):>10} {figure('workload'):>8}  {net:>11}  {rotating}"
        )
    say()
    say("Scores are means on 1–5 scales. Net AI time is self-reported time saved minus time spent on")
    say("AI upkeep, per person per week: people misjudge time saved, so it is never shown alone.")
    say(f"No figure is shown for fewer than {behaviour.min_group_size} people, nor one that lets a smaller group be worked out.")
    say(f"The demo database is {database_file}.")
