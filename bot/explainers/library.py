"""The explainer library: short Markdown files with YAML front matter, validated once at start.

The shipped explainers live in `content/`; an admin adds their own with `explainers_dir` in the
behaviour file. A file that cannot be read as an explainer stops start-up with one line naming
the file and the field, so a typo never silently drops a piece of content.

    ---
    key: what-changes-at-go-live
    title: What changes at go-live, and what does not
    audience: {teams: [Sales], levels: [entry], rollouts: [Forecast assistant]}   # optional
    week_offset: 0                                                                 # optional
    ---
    The text people read, in Markdown.

A translation is a sibling file (`what-changes-at-go-live.de.md`, say) with the same key, its
language and its own title; who it is for and when come from the explainer it translates:

    ---
    key: what-changes-at-go-live
    lang: de
    title: Was sich mit dem Go-live ändert und was nicht
    ---
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import SettingsError

CONTENT_DIR = Path(__file__).with_name("content")
KEY_PATTERN = r"^[a-z0-9-]{1,60}$"
TITLE_MAX_CHARS = 150
# A section block holds 3,000 characters; the rest is room for the title and Slack's escaping.
BODY_MAX_CHARS = 2800
FENCE = "---"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def within_team(path: str, team: str) -> bool:
    """Whether the team at `path` is `team` or one of its sub-teams (Sales/EMEA is within Sales)."""
    return path == team or path.startswith(team + "/")


def _listed(value: Any) -> Any:
    # `teams: Sales` is how people write a list of one; read it as they meant it.
    return [value] if isinstance(value, str) else value


def _clean_names(values: tuple[str, ...], what: str, max_chars: int) -> tuple[str, ...]:
    cleaned = tuple(v.strip() for v in values)
    for value in cleaned:
        if not value:
            raise ValueError(f"an empty {what}")
        if len(value) > max_chars:
            raise ValueError(f"{what} {value[:40]!r}… is longer than {max_chars} characters")
    return cleaned


class Audience(_Strict):
    """Who an explainer is for. Every part is optional; an empty part means everyone."""

    teams: tuple[str, ...] = ()  # team paths; a team includes its sub-teams
    levels: tuple[str, ...] = ()  # roster levels such as entry, experienced, lead
    rollouts: tuple[str, ...] = ()  # rollout names; the reader's team must be covered by one

    _lists = field_validator("teams", "levels", "rollouts", mode="before")(_listed)

    @field_validator("teams")
    @classmethod
    def _team_paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        paths = _clean_names(value, "team path", 200)
        for path in paths:
            if any(not part.strip() for part in path.split("/")):
                raise ValueError(f"{path!r} is not a team path (write it like Sales/EMEA)")
        return paths

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _clean_names(value, "level", 40)

    @field_validator("rollouts")
    @classmethod
    def _rollouts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _clean_names(value, "rollout name", 100)

    def includes_team(self, path: str) -> bool:
        return not self.teams or any(within_team(path, team) for team in self.teams)

    def includes_level(self, level: str | None) -> bool:
        # Levels are free labels typed into a CSV: "Entry" and "entry" are the same level.
        if not self.levels:
            return True
        return level is not None and level.strip().casefold() in {lv.casefold() for lv in self.levels}


def _one_line_title(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if "\n" in value:
            raise ValueError("keep the title on one line")
    return value


class FrontMatter(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    title: str = Field(min_length=1, max_length=TITLE_MAX_CHARS)
    audience: Audience = Audience()
    week_offset: int | None = Field(default=None, ge=0, le=520)  # weeks after go-live; None: any time

    _title = field_validator("title", mode="before")(_one_line_title)


class Explainer(FrontMatter):
    body: str = Field(min_length=1, max_length=BODY_MAX_CHARS)
    lang: str | None = None  # set on a translation; the explainer it translates has none


class TranslationMatter(_Strict):
    """The front matter of a translation: the key and language, and a title of its own."""

    key: str = Field(pattern=KEY_PATTERN)
    lang: str
    title: str = Field(min_length=1, max_length=TITLE_MAX_CHARS)

    _title = field_validator("title", mode="before")(_one_line_title)

    @field_validator("lang")
    @classmethod
    def _shipped(cls, value: str) -> str:
        from bot.i18n import SHIPPED

        if value not in SHIPPED or value == "en":
            raise ValueError(f"{value!r} is not a language to translate into ({', '.join(SHIPPED[1:])})")
        return value


@dataclass(frozen=True)
class Library:
    """The explainers in the order people receive them: by week offset (timeless last), then key;
    and their translations, by key and language."""

    explainers: tuple[Explainer, ...]
    translations: tuple[Explainer, ...] = ()

    def for_reader(self, key: str, lang: str, default: str = "en") -> Explainer | None:
        """The explainer `key` in the reader's language, else the organisation's, else as written."""
        return self.in_language(key, lang) or self.in_language(key, default) or self.get(key)

    def in_language(self, key: str, lang: str) -> Explainer | None:
        """The translation of `key` into `lang`, if there is one."""
        return next((e for e in self.translations if e.key == key and e.lang == lang), None)

    def __iter__(self) -> Iterator[Explainer]:
        return iter(self.explainers)

    def __len__(self) -> int:
        return len(self.explainers)

    def get(self, key: str) -> Explainer | None:
        return next((e for e in self.explainers if e.key == key), None)

    @property
    def keys(self) -> list[str]:
        return [e.key for e in self.explainers]


def reading_order(explainer: Explainer) -> tuple[bool, int, str]:
    return (explainer.week_offset is None, explainer.week_offset or 0, explainer.key)


def load_library(extra_dir: Path | None = None, *, content_dir: Path = CONTENT_DIR) -> Library:
    """The shipped explainers plus those in `extra_dir`; any problem is one SettingsError line."""
    files = _markdown_files(content_dir)
    if extra_dir is not None:
        files += _markdown_files(extra_dir)
    seen: dict[str, Path] = {}
    explainers: dict[str, Explainer] = {}
    translated: dict[tuple[str, str], tuple[Path, TranslationMatter, str]] = {}
    for path in files:
        front, body = _read(path)
        if "lang" in front:
            translation = _parse(path, TranslationMatter, front)
            where = (translation.key, translation.lang)
            if where in translated:
                raise SettingsError(
                    f"explainer {path}: lang: {translation.key!r} in {translation.lang} is already in {translated[where][0]}"
                )
            translated[where] = (path, translation, body)
            continue
        explainer = _explainer(path, front, body)
        if explainer.key in seen:
            raise SettingsError(f"explainer {path}: key: {explainer.key!r} is already used by {seen[explainer.key]}")
        seen[explainer.key] = path
        explainers[explainer.key] = explainer
    translations = []
    for (key, lang), (path, translation, body) in sorted(translated.items()):
        original = explainers.get(key)
        if original is None:
            raise SettingsError(f"explainer {path}: key: {key!r} translates no explainer in the library")
        data = {**original.model_dump(), "title": translation.title, "body": body.strip(), "lang": lang}
        try:
            translations.append(Explainer(**data))
        except ValidationError as error:
            raise SettingsError(f"explainer {path}: {_describe(error)}") from None
    return Library(tuple(sorted(explainers.values(), key=reading_order)), tuple(translations))


def _markdown_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise SettingsError(f"explainers_dir: folder not found: {folder}")
    return sorted(folder.glob("*.md"))


def parse_explainer(path: Path) -> Explainer:
    front, body = _read(path)
    return _explainer(path, front, body)


def _read(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SettingsError(f"explainer {path}: not UTF-8 text") from None
    except OSError as error:
        raise SettingsError(f"explainer {path}: cannot read the file: {error.strerror}") from None
    return _split(path, text)


def _explainer(path: Path, front: dict[str, Any], body: str) -> Explainer:
    meta = _parse(path, FrontMatter, front)
    try:
        return Explainer(**meta.model_dump(), body=body.strip())
    except ValidationError as error:
        raise SettingsError(f"explainer {path}: {_describe(error)}") from None


_Matter = TypeVar("_Matter", bound=BaseModel)


def _parse(path: Path, model: type[_Matter], front: dict[str, Any]) -> _Matter:
    try:
        return model.model_validate(front)
    except ValidationError as error:
        raise SettingsError(f"explainer {path}: {_describe(error)}") from None


def _split(path: Path, text: str) -> tuple[dict[str, Any], str]:
    """The YAML between the opening and closing `---` lines, and the Markdown after them."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != FENCE:
        raise SettingsError(f"explainer {path}: front matter: the file must start with a '---' line")
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == FENCE)
    except StopIteration:
        raise SettingsError(f"explainer {path}: front matter: no closing '---' line") from None
    try:
        front = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise SettingsError(f"explainer {path}: front matter: not valid YAML{where}") from None
    if not isinstance(front, dict):
        raise SettingsError(f"explainer {path}: front matter: expected key: value lines")
    return front, "\n".join(lines[end + 1 :])


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "front matter"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    elif first["type"] == "missing":
        message = "missing"
    return f"{where}: {message}"
