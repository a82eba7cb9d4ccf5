"""The kinds of hidden work, their names, and the words people use for them."""

from __future__ import annotations

import functools
import re

from bot.i18n import ENGLISH, N_, Translator, translator, SHIPPED
from bot.models import WORK_CATEGORIES

# Display names, in the order forms and summaries list them (translated where they are shown).
CATEGORY_NAMES: dict[str, str] = {
    "validation": N_("validation & review"),
    "prompting": N_("prompt work"),
    "cleanup": N_("data cleanup"),
    "exceptions": N_("exception handling"),
    "workaround": N_("workaround / shadow system"),
    "other": N_("other"),
}
if tuple(CATEGORY_NAMES) != WORK_CATEGORIES:  # pragma: no cover — caught at import, in every test
    raise RuntimeError("CATEGORY_NAMES must list exactly the database's WORK_CATEGORIES, in order")

# The short word to type for each, shown in help and error messages.
CATEGORY_WORDS: dict[str, str] = {
    "validation": "review",
    "prompting": "prompting",
    "cleanup": "cleanup",
    "exceptions": "exceptions",
    "workaround": "workaround",
    "other": "other",
}

ALIASES: dict[str, tuple[str, ...]] = {
    "validation": (
        "validation", "validate", "validating", "validation and review", "review", "reviews", "reviewing",
        "check", "checks", "checking", "verify", "verifying", "verification", "fact check", "fact checking",
        "qa", "proofreading", "proofread",
    ),
    "prompting": ("prompting", "prompt", "prompts", "prompt work", "prompt engineering", "prompt writing"),
    "cleanup": (
        "cleanup", "clean up", "cleaning", "clean", "data cleanup", "data clean up", "data cleaning", "data",
        "cleansing", "data prep", "data preparation",
    ),
    "exceptions": (
        "exceptions", "exception", "exception handling", "exceptions handling", "edge case", "edge cases",
        "escalation", "escalations", "override", "overrides",
    ),
    "workaround": (
        "workaround", "workarounds", "work around", "shadow", "shadow system", "shadow systems",
        "workaround shadow system", "spreadsheet", "spreadsheets", "excel", "sheet", "sheets", "manual",
        "manual reconciliation", "reconciliation", "reconciling", "offline",
    ),
    "other": ("other", "misc", "miscellaneous", "something else"),
}

# The longest alias in words: how far a one-line command looks for a category.
MAX_CATEGORY_WORDS = 4


def _normalise(text: str) -> str:
    # "Validation & review", "validation and review" and "validation-review" are the same words.
    words = re.sub(r"[\W_]+", " ", text.lower()).split()
    return " ".join(word for word in words if word != "and")


_LOOKUP: dict[str, str] = {
    _normalise(alias): key
    for key in WORK_CATEGORIES
    for alias in (key, CATEGORY_NAMES[key], *ALIASES[key])
}


@functools.cache
def _names_in_every_language() -> dict[str, str]:
    """A category's name in every shipped language reads as that category too (English words
    first, so no translation can take one from another category)."""
    lookup = dict(_LOOKUP)
    for lang in SHIPPED:
        for key in WORK_CATEGORIES:
            lookup.setdefault(_normalise(translator(lang).gettext(CATEGORY_NAMES[key])), key)
    return lookup


def category_for(text: str) -> str | None:
    """The category key `text` names (a key, a display name or an alias), or None."""
    return _names_in_every_language().get(_normalise(text))


def category_name(key: str, t: Translator = ENGLISH) -> str:
    return t.gettext(CATEGORY_NAMES[key])


def category_choices(t: Translator = ENGLISH) -> str:
    """The words to type, with what each means, for help and error messages. The words are the
    same in every language (a one-line `/pulse log` reads them); what they mean is translated."""
    return ", ".join(
        f"`{word}`" if word == category_name(key, t) else f"`{word}` ({category_name(key, t)})"
        for key, word in CATEGORY_WORDS.items()
    )
