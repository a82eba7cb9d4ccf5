"""Slash-command text parsed into typed commands, in one place."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from bot.errors import PulseError
from bot.i18n import N_, Localized
from bot.labour.categories import MAX_CATEGORY_WORDS, category_choices, category_for
from bot.labour.durations import parse_duration
from bot.labour.errors import UnreadableDuration
from bot.slack.ids import COMMENT_INPUT_ACTION, Action, Block

_WEEKS = re.compile(r"^(\d{1,3})\s*w(?:eeks?|ks?)?$", re.IGNORECASE)


class UsageError(PulseError):
    """The command's words could not be read; the message says how to write them."""


class Help(BaseModel):
    kind: Literal["help"] = "help"


class Pause(BaseModel):
    kind: Literal["pause"] = "pause"
    weeks: int | None = None


class Resume(BaseModel):
    kind: Literal["resume"] = "resume"


class Log(BaseModel):
    """`/pulse log`: no words open the form; otherwise one whole report in one line."""

    kind: Literal["log"] = "log"
    minutes: int | None = None
    category: str | None = None  # a category key
    note: str | None = None


class Summary(BaseModel):
    """`/pulse summary [team] [Nw]`: the caller's teams, or one named team, over N weeks."""

    kind: Literal["summary"] = "summary"
    team: str | None = None
    weeks: int = 4


class MyData(BaseModel):
    kind: Literal["mydata"] = "mydata"


class Forget(BaseModel):
    kind: Literal["forget"] = "forget"


class Language(BaseModel):
    """`/pulse language [code]`: no code shows the person's language and the others; `auto`
    follows their Slack language again. Whether the code is known is the handler's to say."""

    kind: Literal["language"] = "language"
    code: str | None = None


SUMMARY_MAX_WEEKS = 12

SlashCommand = Help | Pause | Resume | Log | Summary | MyData | Forget | Language


def parse_slash(text: str) -> SlashCommand:
    words = text.strip().split()
    if not words:
        return Help()
    name, rest = words[0].lower(), words[1:]
    if name == "help":
        return Help()
    if name == "resume" and not rest:
        return Resume()
    if name == "pause":
        if not rest:
            return Pause()
        match = _WEEKS.match(" ".join(rest))
        if match is None:
            raise UsageError(
                N_("I couldn't read “{words}”. Try `/pulse pause 2w`, or `/pulse pause` to pause until you resume."),
                words=" ".join(rest),
            )
        return Pause(weeks=int(match[1]))
    if name == "log":
        return _parse_log(text.strip()[len(words[0]) :])
    if name == "summary":
        return _parse_summary(rest)
    if name == "mydata" and not rest:
        return MyData()
    if name == "forget" and not rest:
        return Forget()
    if name == "language" and len(rest) <= 1:
        return Language(code=rest[0][:20] if rest else None)
    raise UsageError(N_("I don't know `/pulse {words}`. Here is what I can do:"), words=text.strip()[:60])


def _parse_summary(words: list[str]) -> Summary:
    weeks = 4
    if words and (match := _WEEKS.match(words[-1])):
        weeks = int(match[1])
        words = words[:-1]
        if not 1 <= weeks <= SUMMARY_MAX_WEEKS:
            raise UsageError(
                N_("A summary covers 1 to {most} weeks, e.g. `/pulse summary Sales/EMEA 4w`."), most=SUMMARY_MAX_WEEKS
            )
    # Slack escapes &, < and > in command text; a team such as "R&D" is named as the roster has it.
    team = _unescape(" ".join(words)).strip().strip("/") or None
    return Summary(team=team, weeks=weeks)


# ---------------------------------------------------------------- /pulse log

LOG_EXAMPLE = "`/pulse log 45m review checked the forecast`"
_MAX_DURATION_WORDS = 4  # "1 h 30 min"
_SHOWN = 30  # how much of a word to quote back in an error
_T = TypeVar("_T")
Span = tuple[int, int]


def _parse_log(text: str) -> Log:
    """Duration, category and note; duration and category in either order, each maybe several words."""
    text = _unescape(text)
    words = [(found.start(), found.end()) for found in re.finditer(r"\S+", text)]
    if not words:
        return Log()
    minutes: int | None = None
    category: str | None = None
    used = 0
    for _ in range(2):
        if minutes is None and (duration := _leading(text, words, used, _MAX_DURATION_WORDS, _minutes)):
            minutes, used = duration
        elif category is None and (kind := _leading(text, words, used, MAX_CATEGORY_WORDS, category_for)):
            category, used = kind
        else:
            break
    if minutes is None:
        raise _log_usage(_duration_problem(text, words, used))
    if category is None:
        raise _log_usage(_category_problem(text, words, used))
    note = text[words[used - 1][1] :].strip() if used < len(words) else ""
    return Log(minutes=minutes, category=category, note=note or None)


def _unescape(text: str) -> str:
    # Slack escapes &, < and > in command text; the note is stored as the person wrote it and
    # escaped again wherever it is shown.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _leading(
    text: str, words: list[Span], start: int, most: int, read: Callable[[str], _T | None]
) -> tuple[_T, int] | None:
    """The longest run of up to `most` words from `start` that `read` understands, and where it ends."""
    for end in range(min(len(words), start + most), start, -1):
        value = read(text[words[start][0] : words[end - 1][1]])
        if value is not None:
            return value, end
    return None


def _minutes(text: str) -> int | None:
    try:
        return parse_duration(text)
    except UnreadableDuration:
        return None


def _word(text: str, words: list[Span], index: int) -> str:
    start, end = words[index]
    return text[start:end][:_SHOWN]


def _duration_problem(text: str, words: list[Span], used: int) -> PulseError:
    if used > 0:  # a category came first and no duration after it
        return PulseError(N_("How long did it take? Add a duration such as 45m, 1h, 1h30m or 1.5h."))
    try:
        parse_duration(text[words[0][0] : words[0][1]])
    except UnreadableDuration as problem:
        return problem
    raise AssertionError("a readable first word would have been taken as the duration")  # pragma: no cover


def _category_problem(text: str, words: list[Span], used: int) -> PulseError:
    if used >= len(words):
        return PulseError(N_("What kind of hidden work was it? Add a category after the duration."))
    return PulseError(N_("“{word}” is not a kind of hidden work I know."), word=_word(text, words, used))


def _log_usage(problem: PulseError) -> UsageError:
    return UsageError(
        N_("{problem} For example: {example}. Categories: {categories}."),
        problem=Localized(problem.in_language),
        example=LOG_EXAMPLE,
        categories=Localized(category_choices),
    )


# ---------------------------------------------------------------- the hidden-work form


FORM_UNREADABLE = N_("This form could not be read. Close it and open it again.")


class LogForm(BaseModel):
    """The hidden-work modal as submitted: raw text, checked by the labour service."""

    category: str | None = None
    duration: str = ""
    tool: str | None = None
    note: str | None = None
    share_with_manager: bool = False

    @classmethod
    def from_state(cls, values: dict[str, Any]) -> LogForm:
        """Read `view.state.values`; a form that cannot be read is a UsageError, not a crash."""

        def element(block: str, action: str) -> dict[str, Any]:
            found = (values.get(block) or {}).get(action)
            return found if isinstance(found, dict) else {}

        selected = element(Block.LOG_CATEGORY, Action.LOG_CATEGORY).get("selected_option") or {}
        try:
            return cls(
                category=selected.get("value"),
                duration=element(Block.LOG_DURATION, Action.LOG_DURATION).get("value") or "",
                tool=element(Block.LOG_TOOL, Action.LOG_TOOL).get("value"),
                note=element(Block.LOG_NOTE, Action.LOG_NOTE).get("value"),
                share_with_manager=bool(element(Block.LOG_SHARE, Action.LOG_SHARE).get("selected_options")),
            )
        except (ValidationError, AttributeError):
            raise UsageError(FORM_UNREADABLE) from None


def comment_from_state(values: dict[str, Any]) -> str:
    """The pulse comment as typed in its modal (`view.state.values`); unreadable is a UsageError."""
    block = values.get(Block.COMMENT_INPUT)
    element = block.get(COMMENT_INPUT_ACTION) if isinstance(block, dict) else None
    text = element.get("value") if isinstance(element, dict) else None
    if text is not None and not isinstance(text, str):
        raise UsageError(FORM_UNREADABLE)
    return text or ""
