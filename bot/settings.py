"""Settings from the environment (or `.env`) and the YAML behaviour file, validated once at start.

A missing or malformed value raises SettingsError with one line that names the setting, so the
CLI can stop with that line instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.calendars.days import check_country, check_reaches, parse_workdays
from bot.errors import SettingsError

if TYPE_CHECKING:
    from bot.explainers.library import Library

DEFAULT_BEHAVIOUR = Path(__file__).with_name("behaviour.yml")


class Weekday(IntEnum):
    """ISO weekday numbers, named as people write them in the behaviour file."""

    monday = 1
    tuesday = 2
    wednesday = 3
    thursday = 4
    friday = 5
    saturday = 6
    sunday = 7


def _weekday(value: Any) -> Weekday:
    if isinstance(value, Weekday):
        return value
    if isinstance(value, str) and value.strip().lower() in Weekday.__members__:
        return Weekday[value.strip().lower()]
    raise ValueError(f"not a day of the week: {value!r} (use monday … sunday)")


def _time_of_day(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 10:00 as the sexagesimal integer 600.
        if 0 <= value < 24 * 60:
            return dt.time(value // 60, value % 60)
        value = f"{value // 60}:{value % 60:02d}"
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"not a time of day: {value!r} (use HH:MM, e.g. \"10:00\")")


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from None
    return value


def _working_days(value: Any) -> tuple[Weekday, ...]:
    """Working days as a list (`[sunday, monday, …]`, `[sun, mon, …]`) or a text (`sun-thu`)."""
    if isinstance(value, str):
        return tuple(Weekday(day) for day in sorted(parse_workdays(value)))
    if not isinstance(value, list | tuple) or not value:
        raise ValueError("list at least one working day")
    days = set()
    for item in value:
        if isinstance(item, Weekday):
            days.add(item)
        elif isinstance(item, str):
            days.update(Weekday(day) for day in parse_workdays(item))
        else:
            raise ValueError(f"not a day of the week: {item!r} (use monday … sunday)")
    return tuple(sorted(days))


def _optional_working_days(value: Any) -> tuple[Weekday, ...] | None:
    return None if value is None else _working_days(value)


def _country_code(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"country {value!r} is not a two-letter country code such as DE")
    return check_country(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Schedule(_Strict):
    pulse_day: Weekday = Weekday.tuesday
    pulse_time: dt.time = dt.time(10, 0)
    latest_time: dt.time = dt.time(18, 0)
    reminder_after_hours: int | None = Field(default=48, ge=1, le=24 * 6)
    workdays: tuple[Weekday, ...] = (
        Weekday.monday,
        Weekday.tuesday,
        Weekday.wednesday,
        Weekday.thursday,
        Weekday.friday,
    )
    tick_minutes: int = Field(default=5, ge=1, le=60)
    explainer_day: Weekday = Weekday.thursday
    explainer_time: dt.time = dt.time(10, 0)
    digest_day: Weekday = Weekday.monday
    digest_time: dt.time = dt.time(14, 0)
    digest_timezone: str = "UTC"
    home_pause_weeks: int = Field(default=2, ge=1, le=26)
    # Whose public holidays are days off for everyone the roster and `calendars` leave unset.
    country: str | None = None

    _days = field_validator("pulse_day", "explainer_day", "digest_day", mode="before")(_weekday)
    _time = field_validator("pulse_time", "latest_time", "explainer_time", "digest_time", mode="before")(_time_of_day)
    _zone = field_validator("digest_timezone")(_timezone)
    _workdays = field_validator("workdays", mode="before")(_working_days)
    _country = field_validator("country", mode="before")(_country_code)

    @model_validator(mode="after")
    def _pulse_on_a_workday(self) -> Schedule:
        if self.pulse_day not in self.workdays:
            raise ValueError(f"pulse_day {self.pulse_day.name} is not one of the workdays")
        if self.latest_time <= self.pulse_time:
            raise ValueError("latest_time must be later in the day than pulse_time")
        if self.explainer_day not in self.workdays:
            raise ValueError(f"explainer_day {self.explainer_day.name} is not one of the workdays")
        if self.latest_time <= self.explainer_time:
            raise ValueError("latest_time must be later in the day than explainer_time")
        return self


class TeamCalendar(_Strict):
    """A team's own working week or country; what it leaves out comes from a parent team or the
    default. A person's own roster values win over both."""

    workdays: tuple[Weekday, ...] | None = None
    country: str | None = None

    _workdays = field_validator("workdays", mode="before")(_optional_working_days)
    _country = field_validator("country", mode="before")(_country_code)

    @model_validator(mode="after")
    def _sets_something(self) -> TeamCalendar:
        if self.workdays is None and self.country is None:
            raise ValueError("set workdays, country or both")
        return self


class Calendars(_Strict):
    """`calendars: teams: {Operations/Dubai: {workdays: sun-thu, country: AE}}`."""

    teams: dict[str, TeamCalendar] = Field(default_factory=dict)

    @field_validator("teams", mode="before")
    @classmethod
    def _team_paths(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        paths: dict[str, Any] = {}
        for path, team in value.items():
            segments = [segment.strip() for segment in str(path).split("/")]
            if not str(path).strip() or not all(segments):
                raise ValueError(f"{path!r} is not a team path such as Operations/Dubai")
            normal = "/".join(segments)
            if normal in paths:
                raise ValueError(f"team {normal} is listed twice")
            paths[normal] = team
        return paths


class AwayStatus(_Strict):
    """Slack statuses that mean a person is away (vacation, out sick): their pulse waits."""

    emoji: tuple[str, ...] = (":palm_tree:", ":face_with_thermometer:", ":sick:", ":beach_with_umbrella:")
    words: tuple[str, ...] = (
        "vacation",
        "vacationing",
        "holiday",
        "out sick",
        "sick",
        "ooo",
        "out of office",
        "on leave",
        "parental leave",
        "pto",
    )


class Option(_Strict):
    label: str = Field(min_length=1, max_length=40)
    value: float


class Question(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    text: str = Field(min_length=1, max_length=200)
    kind: Literal["scale", "choice", "hours", "text"]
    options: tuple[Option, ...] = ()
    favourable_at_least: float | None = None

    @model_validator(mode="after")
    def _options_fit_kind(self) -> Question:
        if self.kind == "text":
            if self.options:
                raise ValueError(f"question {self.key}: a text question has no options")
        elif not 2 <= len(self.options) <= 7:
            raise ValueError(f"question {self.key}: needs 2 to 7 options")
        labels = [o.label for o in self.options]
        if len(set(labels)) != len(labels):
            raise ValueError(f"question {self.key}: option labels repeat")
        return self


class QuestionBank(_Strict):
    core: tuple[Question, ...]
    rotating: tuple[Question, ...] = ()
    rotating_per_week: int = Field(default=1, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _no_rotation_without_rotating_questions(cls, data: Any) -> Any:
        # A bank of core questions only must not fail on a default the operator never wrote.
        if isinstance(data, dict) and not data.get("rotating") and "rotating_per_week" not in data:
            return {**data, "rotating_per_week": 0}
        return data

    @model_validator(mode="after")
    def _sensible_survey(self) -> QuestionBank:
        keys = [q.key for q in (*self.core, *self.rotating)]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"question keys repeat: {', '.join(dupes)}")
        if self.rotating_per_week > len(self.rotating):
            raise ValueError(
                f"rotating_per_week is {self.rotating_per_week} but only {len(self.rotating)} rotating questions exist"
            )
        if any(q.kind == "text" for q in self.rotating):
            raise ValueError("a text question must be core, not rotating")
        asked = sum(q.kind != "text" for q in self.core) + self.rotating_per_week
        if not 3 <= asked <= 6:
            raise ValueError(f"a week asks {asked} questions; keep it between 3 and 6")
        if sum(q.kind == "text" for q in self.core) > 1:
            raise ValueError("at most one free-text question")
        return self


class AlertThresholds(_Strict):
    """When a group's week raises an alert. Shares are fractions (0.25 = 25%), hours per person."""

    capability_below: float = Field(default=3.0, gt=0)
    capability_drop: float = Field(default=0.5, gt=0)
    capability_drop_weeks: int = Field(default=2, ge=1, le=8)
    workload_favourable_below: float = Field(default=0.5, ge=0, le=1)
    upkeep_hours_at_least: float = Field(default=3.0, gt=0, le=80)
    upkeep_rising_weeks: int = Field(default=3, ge=2, le=8)
    workaround_at_least: float = Field(default=0.25, gt=0, le=1)
    response_rate_below: float = Field(default=0.4, ge=0, le=1)

    @property
    def lookback_weeks(self) -> int:
        """How many weeks before the reported one any check looks at."""
        return max(self.capability_drop_weeks, self.upkeep_rising_weeks)


class RolloutRules(_Strict):
    """How a rollout is read: the competency target, the expected dip, and when to signal a pause."""

    capability_target: float = Field(default=4.0, gt=0)
    grace_weeks: int = Field(default=3, ge=0, le=26)
    window_days: int = Field(default=90, ge=7, le=366)
    pause_when_alerts_at_least: int = Field(default=2, ge=1, le=20)

    @model_validator(mode="after")
    def _grace_inside_the_window(self) -> RolloutRules:
        if self.grace_weeks * 7 > self.window_days:
            raise ValueError(
                f"grace_weeks {self.grace_weeks} reaches past window_days {self.window_days}; "
                "the grace weeks are the start of the window"
            )
        return self


def _scale_of(bank: QuestionBank, key: str) -> tuple[float, float] | None:
    """The lowest and highest answer of the scale question `key`, if the bank asks one."""
    for question in (*bank.core, *bank.rotating):
        if question.key == key and question.kind == "scale":
            values = [option.value for option in question.options]
            return min(values), max(values)
    return None


class Behaviour(_Strict):
    """What the behaviour file (PULSE_CONFIG) controls. Defaults live in bot/behaviour.yml."""

    schedule: Schedule = Schedule()
    min_group_size: int = Field(default=5, ge=3, le=100)
    retention_days: int = Field(default=730, ge=30)
    away_status: AwayStatus = AwayStatus()
    questions: QuestionBank
    explainers_dir: Path | None = None
    alerts: AlertThresholds = AlertThresholds()
    rollouts: RolloutRules = RolloutRules()
    calendars: Calendars = Calendars()

    @field_validator("explainers_dir", mode="before")
    @classmethod
    def _folder_named(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("give the path of a folder of explainers, or null for none")
        return value

    @field_validator("explainers_dir")
    @classmethod
    def _explainers_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"folder not found: {value}")
        return value

    @model_validator(mode="after")
    def _every_team_can_be_asked(self) -> Behaviour:
        for path, team in self.calendars.teams.items():
            if team.workdays is not None:
                try:
                    check_reaches(team.workdays, self.schedule.pulse_day, "workdays")
                except ValueError as error:
                    raise ValueError(f"calendars.teams.{path}.workdays: {error}") from None
        return self

    @model_validator(mode="after")
    def _capability_figures_on_its_scale(self) -> Behaviour:
        # Thresholds are in the capability question's own units; off its scale they never (or always) fire.
        scale = _scale_of(self.questions, "capability")
        if scale is None:
            return self
        low, high = scale
        for name, value in (
            ("alerts.capability_below", self.alerts.capability_below),
            ("rollouts.capability_target", self.rollouts.capability_target),
        ):
            if not low < value <= high:
                raise ValueError(f"{name} {value:g} is off the capability scale ({low:g} to {high:g})")
        if self.alerts.capability_drop > high - low:
            raise ValueError(
                f"alerts.capability_drop {self.alerts.capability_drop:g} is more than the whole capability scale"
            )
        if self.rollouts.capability_target < self.alerts.capability_below:
            raise ValueError(
                f"rollouts.capability_target {self.rollouts.capability_target:g} is below "
                f"alerts.capability_below {self.alerts.capability_below:g}: "
                "a team would count as competent while alerting"
            )
        return self


def _format_validation_error(source: str, error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{source}: {where}: {message}" if where else f"{source}: {message}"


def load_behaviour(path: Path | None) -> Behaviour:
    """The built-in defaults, overlaid key by key with the operator's file when one is given."""
    data = _read_yaml(DEFAULT_BEHAVIOUR, "built-in behaviour")
    source = "built-in behaviour"
    if path is not None:
        source = f"PULSE_CONFIG ({path})"
        overlay = _relative_to(path.parent, _read_yaml(path, source))
        data = _overlay(data, overlay)
    try:
        return Behaviour.model_validate(data)
    except ValidationError as error:
        raise SettingsError(_format_validation_error(source, error)) from None


def _read_yaml(path: Path, source: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsError(f"{source}: cannot read the file: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SettingsError(f"{source}: not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{source}: expected a mapping of settings at the top level")
    return data


def _relative_to(folder: Path, overlay: dict[str, Any]) -> dict[str, Any]:
    """A relative explainers_dir means next to the behaviour file, wherever the program starts."""
    extra = overlay.get("explainers_dir")
    if isinstance(extra, str) and extra.strip() and not Path(extra).is_absolute():
        return {**overlay, "explainers_dir": str(folder / extra)}
    return overlay


def _overlay(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and key != "questions":
            merged[key] = _overlay(base[key], value)
        else:
            # A question bank is replaced whole: mixing two banks would silently change the survey.
            merged[key] = value
    return merged


def _nonempty(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


class Settings(BaseSettings):
    """The environment (or `.env`). Names are exactly those of INTERFACE.md."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///pulse.sqlite3"
    pulse_council_channel: str | None = None
    pulse_pseudonym_key: str | None = None
    pulse_config: Path | None = None

    _clean = field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "pulse_council_channel",
        "pulse_pseudonym_key",
        mode="before",
    )(_nonempty)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL (e.g. sqlite:///pulse.sqlite3 or postgresql+psycopg://…)") from None
        return value

    @field_validator("pulse_pseudonym_key")
    @classmethod
    def _pseudonym_key(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 16:
            raise ValueError("must be at least 16 characters of secret")
        return value

    @cached_property
    def behaviour(self) -> Behaviour:
        return load_behaviour(self.pulse_config)

    @cached_property
    def explainers(self) -> Library:
        """The shipped explainers plus the behaviour file's explainers_dir, validated."""
        from bot.explainers.library import load_library

        return load_library(self.behaviour.explainers_dir)

    def require(self, *names: str, purpose: str) -> None:
        """Stop with one line when a setting this command needs is missing."""
        for name in names:
            if getattr(self, name) is None:
                raise SettingsError(f"{name.upper()} is not set; it is required {purpose}")

    @property
    def pseudonym_key(self) -> bytes:
        self.require("pulse_pseudonym_key", purpose="to store answers")
        assert self.pulse_pseudonym_key is not None
        return self.pulse_pseudonym_key.encode("utf-8")


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the environment; overrides (used by the demo and tests) win over it."""
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"{name}: {first['msg'].removeprefix('Value error, ')}") from None
    settings.behaviour  # validate the behaviour file at start, not at the first pulse
    settings.explainers  # and the explainer library, so a broken file stops start-up
    return settings


def timezone_or_utc(name: str | None) -> str:
    """A Slack time zone we can compute with; Slack sends IANA names, but be safe with odd ones."""
    if not name:
        return "UTC"
    try:
        return _timezone(name)
    except ValueError:
        return "UTC"
