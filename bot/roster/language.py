"""Which language each person reads: the one they chose with `/pulse language`, else their Slack
locale's, else the organisation's (bot/i18n.py). Stored on the person, never with an answer."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.db import Database
from bot.i18n import person_language
from bot.models import Person
from bot.roster.service import enrolled_person


def language_for(db: Database, user_id: str, default: str) -> str:
    """The language of the person behind `user_id`; the organisation's for anyone not on the roster."""
    with db.session() as session:
        row = session.execute(select(Person.language, Person.locale).where(Person.slack_user_id == user_id)).first()
    return default if row is None else person_language(row.language, row.locale, default)


def language_choice(db: Database, user_id: str) -> tuple[str | None, str | None]:
    """The person's own choice and their Slack locale (either may be unset); NotEnrolled if not enrolled."""
    with db.session() as session:
        person = enrolled_person(session, user_id)
        return person.language, person.locale


def choose_language(db: Database, user_id: str, lang: str | None) -> None:
    """Keep `lang` as the person's language; None goes back to their Slack locale's."""
    with db.session() as session:
        person = enrolled_person(session, user_id)
        session.execute(update(Person).where(Person.id == person.id).values(language=lang))


def record_locale(db: Database, user_id: str, locale: str | None) -> None:
    """The Slack locale of someone on the roster, as Slack says it now (nothing for a blank one)."""
    if not locale:
        return
    with db.session() as session:
        session.execute(update(Person).where(Person.slack_user_id == user_id).values(locale=locale[:16]))
