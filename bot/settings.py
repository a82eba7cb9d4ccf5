"""Settings from the environment (or `.env`) and the YAML behaviour file, validated once at start.

A missing or malformed value raises SettingsError with one line that names the setting, so the
CLI can stop with that line instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
import re
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
from bot.roster.paths import team_path

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


Texts = tuple[tuple[str, str], ...]  # (language, text) pairs: hashable, and kept in a round as they are
# An option label of digits and signs only ("2", "3") reads the same in every language.
_NEUTRAL_LABEL = re.compile(r"^[\d\s.,:+<>·–-]*$")


def _worded(data: Any, field: str, texts: str) -> Any:
    """`text: {en: …, de: …}` (or `label:`) becomes the text to fall back on (English when the
    map has it, else its first) plus every language's text under `texts`."""
    if not isinstance(data, dict) or not isinstance(data.get(field), dict):
        return data
    words = data[field]
    if not words:
        raise ValueError(f"{field}: give the text, or a map of language codes to texts")
    for lang, text in words.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{field}: the {lang} text is empty")
    base = words.get("en", next(iter(words.values())))
    return {**data, field: base, texts: tuple((str(lang), text) for lang, text in words.items())}


def _check_texts(texts: Texts, field: str, max_chars: int) -> Texts:
    from bot.i18n import SHIPPED

    for lang, text in texts:
        if lang not in SHIPPED:
            raise ValueError(f"{field}: {lang!r} is not a language Rollout Pulse ships ({', '.join(SHIPPED)})")
        if len(text) > max_chars:
            raise ValueError(f"{field}: the {lang} text is longer than {max_chars} characters")
    return texts


class Option(_Strict):
    label: str = Field(min_length=1, max_length=40)
    value: float
    labels: Texts = ()  # the label per language, when the bank is translated

    @model_validator(mode="before")
    @classmethod
    def _label_per_language(cls, data: Any) -> Any:
        return _worded(data, "label", "labels")

    @field_validator("labels")
    @classmethod
    def _known_languages(cls, value: Texts) -> Texts:
        return _check_texts(value, "label", 40)

    @property
    def neutral(self) -> bool:
        """A label such as "2" that needs no translation."""
        return bool(_NEUTRAL_LABEL.match(self.label))

    def label_in(self, lang: str) -> str:
        return dict(self.labels).get(lang, self.label)


class Question(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    text: str = Field(min_length=1, max_length=200)
    kind: Literal["scale", "choice", "hours", "text"]
    options: tuple[Option, ...] = ()
    favourable_at_least: float | None = None
    texts: Texts = ()  # the text per language, when the bank is translated

    @model_validator(mode="before")
    @classmethod
    def _text_per_language(cls, data: Any) -> Any:
        return _worded(data, "text", "texts")

    @field_validator("texts")
    @classmethod
    def _known_languages(cls, value: Texts) -> Texts:
        return _check_texts(value, "text", 200)

    def text_in(self, lang: str) -> str:
        """The question in `lang`; the bank's fallback text when it has none in that language."""
        return dict(self.texts).get(lang, self.text)

    @property
    def languages(self) -> set[str]:
        return {lang for lang, _ in self.texts} | {lang for option in self.options for lang, _ in option.labels}

    def missing_language(self, lang: str, *, plain: bool = False) -> str | None:
        """What of this question has no `lang` text, in words, or None when it is all there.
        With `plain`, a text or label given as plain words counts as `lang`'s."""
        if lang not in dict(self.texts) and not (plain and not self.texts):
            return f"question {self.key}: no {lang} text"
        for number, option in enumerate(self.options, start=1):
            if option.neutral or lang in dict(option.labels) or (plain and not option.labels):
                continue
            return f"question {self.key}: option {number} ({option.label}) has no {lang} label"
        return None

    @model_validator(mode="after")
    def _options_fit_kind(self) -> Question:
        if self.kind == "text":
            if self.options:
                raise ValueError(f"question {self.key}: a text question has no options")
        elif not 2 <= len(self.options) <= 7:
            raise ValueError(f"question {self.key}: needs 2 to 7 options")
        for lang in {None, *self.languages}:
            labels = [o.label if lang is None else o.label_in(lang) for o in self.options]
            if len(set(labels)) != len(labels):
                raise ValueError(f"question {self.key}: option labels repeat" + (f" in {lang}" if lang else ""))
        return self


class QuestionBank(_Strict):
    core: tuple[Question, ...]
    rotating: tuple[Question, ...] = ()
    rotating_per_week: int = Field(default=1, ge=0)
    # The languages every question and option is written in; left out, every language any
    # question uses. A text given as plain words is the first language's.
    languages: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _no_rotation_without_rotating_questions(cls, data: Any) -> Any:
        # A bank of core questions only must not fail on a default the operator never wrote.
        if isinstance(data, dict) and not data.get("rotating") and "rotating_per_week" not in data:
            return {**data, "rotating_per_week": 0}
        return data

    @field_validator("languages", mode="before")
    @classmethod
    def _language_list(cls, value: Any) -> Any:
        from bot.i18n import SHIPPED

        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ValueError("list language codes, e.g. [en, de, fr]")
        for item in items:
            if item not in SHIPPED:
                raise ValueError(f"{item!r} is not a language Rollout Pulse ships ({', '.join(SHIPPED)})")
        return tuple(dict.fromkeys(items))

    @property
    def questions(self) -> tuple[Question, ...]:
        return (*self.core, *self.rotating)

    @property
    def declared_languages(self) -> tuple[str, ...]:
        """The languages the bank is written in (none: plain texts only)."""
        if self.languages:
            return self.languages
        used = set().union(*(q.languages for q in self.questions))
        from bot.i18n import SHIPPED

        return tuple(lang for lang in SHIPPED if lang in used)

    @model_validator(mode="after")
    def _every_language_whole(self) -> QuestionBank:
        languages = self.declared_languages
        if not languages:
            return self
        for question in self.questions:
            for lang in languages:
                # A text given as plain words is the first language's.
                missing = question.missing_language(lang, plain=lang == languages[0])
                if missing is not None:
                    raise ValueError(missing)
        return self

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


_HANDLE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_PROFILE_FIELD = re.compile(r"^X[A-Za-z0-9]{2,30}$")


def _handles(value: Any) -> tuple[str, ...]:
    """One user-group handle or a list of them; `@sales-emea` and `sales-emea` are the same group."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("give a user-group handle such as sales-emea, or a list of them")
    handles: list[str] = []
    for item in items:
        handle = item.strip().removeprefix("@").lower() if isinstance(item, str) else ""
        if not _HANDLE.match(handle):
            raise ValueError(f"{item!r} is not a user-group handle such as sales-emea")
        if handle not in handles:
            handles.append(handle)
    return tuple(handles)


class TeamGroups(_Strict):
    """The Slack user groups of one team: the people in it, and the people who manage it."""

    members: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()

    _groups = field_validator("members", "managers", mode="before")(_handles)

    @model_validator(mode="after")
    def _names_a_group(self) -> TeamGroups:
        if not self.members and not self.managers:
            raise ValueError("name the team's members or managers user group")
        return self


class RosterSettings(_Strict):
    """Where teams, managers, the council and levels come from: the CSV, Slack user groups, or both."""

    source: Literal["csv", "usergroups"] = "csv"
    level_field: str | None = None
    teams: dict[str, TeamGroups] = Field(default_factory=dict)
    council: tuple[str, ...] = ()
    sync_time: dt.time = dt.time(5, 0)

    _council = field_validator("council", mode="before")(_handles)
    _time = field_validator("sync_time", mode="before")(_time_of_day)

    @field_validator("level_field", mode="before")
    @classmethod
    def _field_id(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str) or not _PROFILE_FIELD.match(value.strip()):
            raise ValueError(f"{value!r} is not a Slack profile field id such as Xf0123ABCD")
        return value.strip()

    @field_validator("teams", mode="before")
    @classmethod
    def _team_paths(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError("map team paths to their user groups, e.g. Sales/EMEA: {members: sales-emea}")
        teams: dict[str, Any] = {}
        for key, groups in value.items():
            path = team_path(str(key), "team")
            if path in teams:
                raise ValueError(f"team {path} is mapped twice")
            # `Finance: finance` is short for `Finance: {members: finance}`.
            teams[path] = {"members": groups} if isinstance(groups, str | list) else groups
        return teams

    @model_validator(mode="after")
    def _one_team_per_group(self) -> RosterSettings:
        if self.source == "usergroups" and not self.teams:
            raise ValueError("source usergroups needs at least one team under teams")
        if not self.teams and (self.council or self.level_field):
            raise ValueError("council and level_field come from user groups: map at least one team under teams")
        members_of: dict[str, str] = {}
        for path, groups in self.teams.items():
            for handle in groups.members:
                if handle in members_of:
                    raise ValueError(f"@{handle} is the members group of both {members_of[handle]} and {path}")
                members_of[handle] = path
        return self

    @property
    def from_usergroups(self) -> bool:
        """Whether any team is mapped: then `pulse roster sync` reads Slack user groups too."""
        return bool(self.teams)

    @property
    def groups_win(self) -> bool:
        """A person both the CSV and a mapped group list follows the group."""
        return self.source == "usergroups"

    def handles(self) -> list[str]:
        """Every handle the mapping names, each once, in the order written."""
        named = [h for groups in self.teams.values() for h in (*groups.members, *groups.managers)]
        return list(dict.fromkeys([*named, *self.council]))


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
    roster: RosterSettings = RosterSettings()
    calendars: Calendars = Calendars()
    # The organisation's language: the council's, and everyone's whose Slack language the app
    # does not ship and who chose none with `/pulse language`.
    language: str = "en"

    @field_validator("language", mode="before")
    @classmethod
    def _shipped_language(cls, value: Any) -> Any:
        from bot.i18n import SHIPPED, language_of

        lang = language_of(value) if isinstance(value, str) else None
        if lang is None or lang != str(value).strip().lower():
            raise ValueError(f"{value!r} is not a language Rollout Pulse ships ({', '.join(SHIPPED)})")
        return lang

    @model_validator(mode="after")
    def _bank_in_the_organisation_language(self) -> Behaviour:
        languages = self.questions.declared_languages
        if languages and self.language not in languages:
            raise ValueError(
                f"language is {self.language} but the question bank is written in {', '.join(languages)} only"
            )
        return self

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

    def switched_off(self) -> list[str]:
        """What the question bank leaves out, in words: said once when a process starts, so an
        operator who dropped a question knows which alerts and figures went with it."""
        keys = {q.key for q in (*self.questions.core, *self.questions.rotating)}
        needed = (
            ("capability", "capability alerts (low, dropping), time-to-competency and pause signals from capability are"),
            ("workload", "the favourable-workload alert is"),
            ("upkeep", "the AI upkeep alerts (high, rising) and net AI time are"),
            ("time_saved", "net AI time is"),
            ("workaround", "the workaround alert is"),
        )
        return [
            f"The question bank has no `{key}` question: {what} off."
            for key, what in needed
            if key not in keys
        ]


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
    # OAuth mode (no SLACK_BOT_TOKEN): the app is installed through /slack/install and its tokens
    # kept in the database, rotated when the app has token rotation on.
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_redirect_uri: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///pulse.sqlite3"
    pulse_council_channel: str | None = None
    pulse_pseudonym_key: str | None = None
    pulse_config: Path | None = None

    _clean = field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "slack_client_id",
        "slack_client_secret",
        "slack_redirect_uri",
        "pulse_council_channel",
        "pulse_pseudonym_key",
        mode="before",
    )(_nonempty)

    @field_validator("slack_redirect_uri")
    @classmethod
    def _redirect_uri(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be the app's redirect URL, e.g. https://pulse.example.com/slack/oauth_redirect")
        return value

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
        return supported_database_url(value)

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

    @property
    def oauth(self) -> bool:
        """OAuth mode: no SLACK_BOT_TOKEN, and the app's client id or secret set. Then the bot token
        comes from the installation kept in the database; otherwise it is SLACK_BOT_TOKEN."""
        return self.slack_bot_token is None and (self.slack_client_id is not None or self.slack_client_secret is not None)

    @property
    def slack_credentials(self) -> tuple[str, ...]:
        """The settings that let the app act in Slack, in the install mode in use."""
        return ("slack_client_id", "slack_client_secret") if self.oauth else ("slack_bot_token",)

    def needed(self, *names: str) -> tuple[str, ...]:
        """`names`, with `slack_bot_token` read as whatever the install mode needs instead."""
        expanded: list[str] = []
        for name in names:
            expanded.extend(self.slack_credentials if name == "slack_bot_token" else (name,))
        return tuple(dict.fromkeys(expanded))

    def missing(self, *names: str) -> list[str]:
        """Which of these settings are not set, as their environment names."""
        return [name.upper() for name in names if getattr(self, name) is None]

    def require(self, *names: str, purpose: str) -> None:
        """Stop with one line naming every setting this command needs that is missing.

        `slack_bot_token` stands for the Slack credentials of the install mode in use: in OAuth
        mode, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET."""
        missing = self.missing(*self.needed(*names))
        if len(missing) == 1:
            raise SettingsError(f"{missing[0]} is not set; it is required {purpose}")
        if missing:
            raise SettingsError(f"{', '.join(missing[:-1])} and {missing[-1]} are not set; they are required {purpose}")

    @property
    def pseudonym_key(self) -> bytes:
        self.require("pulse_pseudonym_key", purpose="to store answers")
        assert self.pulse_pseudonym_key is not None
        return self.pulse_pseudonym_key.encode("utf-8")


def inspect_settings(**overrides: Any) -> tuple[Settings, list[str], set[str]]:
    """The settings as far as they are valid, for `pulse check`: every problem (one line each,
    naming the setting) and the names of settings left out because they are malformed (they
    read as unset, or as their default, which must then not be trusted)."""
    problems: list[str] = []
    unusable: set[str] = set()
    values = dict(overrides)
    while True:
        try:
            settings = Settings(**values)
            break
        except ValidationError as error:
            for problem in error.errors():
                name = str(problem["loc"][0]) if problem["loc"] else ""
                problems.append(f"{name.upper() or 'settings'}: {problem['msg'].removeprefix('Value error, ')}")
                field = Settings.model_fields.get(name)
                if field is None or name in unusable:
                    raise SettingsError(problems[-1]) from None
                unusable.add(name)
                values[name] = field.default
    for part in ("behaviour", "explainers"):
        try:
            getattr(settings, part)
        except SettingsError as error:
            problems.append(str(error))
            unusable.add(part)
            break
    return settings, problems, unusable


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the environment; overrides (used by the demo and tests) win over it."""
    try:
        settings = Settings(**overrides)
    except ValidationError as error:
        # Every malformed setting at once, so one run of the command names them all.
        problems = []
        for problem in error.errors():
            name = str(problem["loc"][0]).upper() if problem["loc"] else "settings"
            problems.append(f"{name}: {problem['msg'].removeprefix('Value error, ')}")
        raise SettingsError("; ".join(problems)) from None
    settings.behaviour  # validate the behaviour file at start, not at the first pulse
    settings.explainers  # and the explainer library, so a broken file stops start-up
    return settings


DATABASE_EXAMPLES = "sqlite:///pulse.sqlite3 or postgresql+psycopg://user@host/db"


def supported_database_url(value: str) -> str:
    """The URL of a database the app runs on (SQLite or PostgreSQL) whose driver is installed.

    A PostgreSQL URL without a driver (`postgresql://`, or `postgres://` as hosting platforms
    write it) means psycopg, the driver the `postgres` extra installs.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(f"not a database URL (e.g. {DATABASE_EXAMPLES})") from None
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"{backend} is not supported; Rollout Pulse runs on SQLite or PostgreSQL ({DATABASE_EXAMPLES})")
    try:
        dialect = url.get_dialect()
        dialect.import_dbapi()
    except NoSuchModuleError:
        raise ValueError(f"unknown {backend} driver {url.get_driver_name()!r} (e.g. {DATABASE_EXAMPLES})") from None
    except ImportError:
        driver = url.get_driver_name()
        if driver == "psycopg":
            fix = "; install it with pip install -e '.[postgres]'"
        elif backend == "postgresql":
            fix = "; write postgresql+psycopg://… for psycopg, which pip install -e '.[postgres]' installs"
        else:
            fix = "; write sqlite:///FILE"
        raise ValueError(f"the {driver} driver for {backend} is not installed{fix}") from None
    if dialect.is_async:
        raise ValueError(f"{url.get_driver_name()} is an asyncio driver; use {DATABASE_EXAMPLES}")
    return value if url.drivername == make_url(value).drivername else url.render_as_string(hide_password=False)


def timezone_or_utc(name: str | None) -> str:
    """A Slack time zone we can compute with; Slack sends IANA names, but be safe with odd ones."""
    if not name:
        return "UTC"
    try:
        return _timezone(name)
    except ValueError:
        return "UTC"
