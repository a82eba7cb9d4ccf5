"""Each person's language: gettext catalogs (Babel) and locale formatting, passed explicitly.

Messages are marked in the code with `t.gettext("…")` and `t.ngettext("…", "…", n)` on a
`Translator` (or `N_("…")` where the text is only named, to be translated where it is shown),
extracted with `pybabel extract` into `bot/locale/messages.pot`, and translated in
`bot/locale/<lang>/LC_MESSAGES/messages.po`. The catalogs are compiled from the .po files when
first used (nothing compiled is kept in the repository, so a clean clone and an edited .po always
agree). English is the source language: its translator returns the code's own text, unchanged.

Placeholders are `{name}` and are filled in after translation, so a translation may put them in
any order. A builder is given the person's `Translator`; nothing here is global per request, so
messages built at once for people in different languages never mix.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
SOURCE = "en"
# Every language the app ships, in the order `/pulse language` lists them.
SHIPPED: tuple[str, ...] = ("en", "de", "fr", "es", "ja")
# Each language by its own name, as a person looks for it.
NATIVE_NAMES: Mapping[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "ja": "日本語",
}


def N_(message: str) -> str:
    """Mark `message` for extraction where it is only named; it is translated where it is shown."""
    return message


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of `lang` (English: the code's own text). Fuzzy entries are left out."""
    if lang == SOURCE or lang not in SHIPPED:
        return NullTranslations()
    with catalog_path(lang).open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def language_of(code: str | None) -> str | None:
    """The shipped language a code or Slack locale names (`de`, `fr-FR`, `es-LA`, `ja-JP`), or None."""
    if not code:
        return None
    lang = code.strip().replace("_", "-").split("-")[0].lower()
    return lang if lang in SHIPPED else None


def person_language(override: str | None, locale: str | None, default: str) -> str:
    """A person's language: their own choice, else their Slack locale's, else the organisation's."""
    return language_of(override) or language_of(locale) or default


@dataclass(frozen=True)
class Localized:
    """A value of a message that is itself worded per language (a list of category names)."""

    render: Callable[[Translator], str]

    def __str__(self) -> str:
        return self.render(ENGLISH)


def _fill(text: str, params: Mapping[str, Any], t: Translator) -> str:
    if not params:
        return text
    return text.format_map({k: v.render(t) if isinstance(v, Localized) else v for k, v in params.items()})


@dataclass(frozen=True)
class Translator:
    """Messages and formatting in one language. Hashable, so cached builders can take it."""

    lang: str = SOURCE

    @property
    def _catalog(self) -> NullTranslations:
        return translations(self.lang)

    @property
    def locale(self) -> Locale:
        return _locale(self.lang)

    def gettext(self, message: str, **params: Any) -> str:
        """`message` in this language, with its `{placeholders}` filled from `params`."""
        return _fill(self._catalog.gettext(message), params, self)

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        """The form of `singular`/`plural` this language uses for `n`; `{n}` is `n`, formatted."""
        return _fill(self._catalog.ngettext(singular, plural, n), {"n": self.integer(n), **params}, self)

    def integer(self, number: int) -> str:
        return str(number) if self.lang == SOURCE else format_decimal(number, locale=self.locale)

    def decimal(self, number: float, places: int = 1) -> str:
        """`number` with `places` decimals, as this language writes it (1.5, 1,5)."""
        pattern = "#,##0." + "0" * places if places else "#,##0"
        return format_decimal(number, format=pattern, locale=self.locale, decimal_quantization=True)

    def percent(self, share: float, places: int = 0) -> str:
        """A share (0.25) as a percentage, whole unless `places` are asked for, as this language
        writes it (25%, 25 %, 25,5 %)."""
        if not places:
            return format_percent(share, locale=self.locale)
        pattern = self.locale.percent_formats[None].pattern.replace("0", "0." + "0" * places, 1)
        return format_percent(share, format=pattern, locale=self.locale, decimal_quantization=True)

    def date(self, day: dt.date, *, english: str, skeleton: str) -> str:
        """A date: in English by the pattern the app has always used, elsewhere by CLDR's
        arrangement of `skeleton` for the language (e.g. `MMMEd` → "Di., 1. Sept.")."""
        if self.lang == SOURCE:
            return format_date(day, english, locale=self.locale)
        return format_skeleton(skeleton, day, locale=self.locale)

    def datetime(self, at: dt.datetime, *, english: str, skeleton: str) -> str:
        """A day (by `skeleton`, as `date` does) and its time on a 24-hour clock."""
        if self.lang == SOURCE:
            return format_datetime(at, english, tzinfo=at.tzinfo, locale=self.locale)
        day = format_skeleton(skeleton, at, tzinfo=at.tzinfo, locale=self.locale)
        return f"{day} {format_time(at, 'HH:mm', tzinfo=at.tzinfo, locale=self.locale)}"


@lru_cache(maxsize=None)
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


ENGLISH = Translator(SOURCE)


@lru_cache(maxsize=None)
def translator(lang: str | None) -> Translator:
    """The translator of a shipped language; anything else reads English."""
    return Translator(lang if lang in SHIPPED else SOURCE)
