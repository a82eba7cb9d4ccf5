"""Everyone reads Rollout Pulse in their own language: complete catalogs, messages that fit
Slack's limits in every language, the Slack locale and `/pulse language`, a translated question
bank, and answers that count the same whatever the language they were given in.

Requests are signed as Slack signs them and sent into the HTTP entry point; the app's Web API
calls go to the local Slack-compatible server. Database tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from babel.messages.pofile import read_po
from freezegun import freeze_time
from sqlalchemy import select

from bot.clock import JobContext, run_job
from bot.db import Database
from bot.errors import SettingsError
from bot.explainers.library import load_library
from bot.explainers.views import ExplainerView
from bot.i18n import LOCALE_DIR, SHIPPED, catalog_path, person_language, translator
from bot.labour.credit import SharedByMe, SharedReport
from bot.labour.views import CategoryMinutes, HiddenWorkSummary, LoggedWork, WeekMinutes
from bot.models import PAUSED_UNTIL_RESUMED, Person, ReleasedFigure
from bot.release.service import final_at, released
from bot.rights import Forgotten, MyData
from bot.settings import Settings, load_behaviour
from bot.slack.blocks.explainers import explainer_message, explainer_text, question_modal
from bot.slack.blocks.home import home_view
from bot.slack.blocks.labour import log_modal, logged_message, logged_text
from bot.slack.blocks.pulse import comment_modal, pulse_message, pulse_text, reminder_message, reminder_text
from bot.slack.blocks.replies import help_message, help_text, language_message, paused_message
from bot.slack.blocks.rights import forget_confirmation, forgotten_message, my_data_replies
from bot.surveys.bank import questions_for_week
from bot.surveys.service import run_pulse_job
from bot.surveys.views import PulseView, WeekStatus
from bot.weeks import UTC, IsoWeek
from tests import factories, stored
from tests.blockkit import assert_valid_message, assert_valid_view
from tests.conftest import PSEUDONYM_KEY, make_settings
from tests.harness import RunningApp, running_app
from tests.slack_server import FakeSlack

ROOT = Path(__file__).resolve().parents[1]
TRANSLATED = [lang for lang in SHIPPED if lang != "en"]
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
TUESDAY_MORNING = "2026-11-24 09:00"  # 10:00 in Berlin and Paris
WEEK = IsoWeek.parse("2026-W48")
NOTES = (
    "Questions you asked anonymously cannot be linked to you, so they are not listed.",
    "Weekly figures already released still include your past answers: they are totals over "
    "at least the minimum group, name nobody, and are never recounted.",
)


# ---------------------------------------------------------------- the catalogs


def _template() -> list[Any]:
    with (LOCALE_DIR / "messages.pot").open("rb") as pot:
        return [message for message in read_po(pot) if message.id]


def _ids(message: Any) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(lang: str) -> None:
    with catalog_path(lang).open("rb") as po:
        catalog = read_po(po, locale=lang)
    for message in _template():
        translated = catalog.get(message.id)
        assert translated is not None, f"{lang}: no entry for {message.id!r}"
        assert not translated.fuzzy, f"{lang}: fuzzy translation of {message.id!r}"
        forms = translated.string if isinstance(translated.string, tuple) else (translated.string,)
        assert len(forms) == (catalog.num_plurals if isinstance(message.id, tuple) else 1)
        wanted = set(PLACEHOLDER.findall(" ".join(_ids(message))))
        for form in forms:
            assert form.strip(), f"{lang}: empty translation of {message.id!r}"
            found = set(PLACEHOLDER.findall(form))
            # A plural's {n} may be left out where the language says it in words ("a week").
            assert found == wanted or (isinstance(message.id, tuple) and found == wanted - {"{n}"}), (
                f"{lang}: {message.id!r} has placeholders {sorted(found)}, not {sorted(wanted)}"
            )


def test_the_template_holds_every_message_the_code_marks(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_", "-o", str(fresh), "bot"],
        cwd=ROOT, check=True, capture_output=True,
    )
    with fresh.open("rb") as pot:
        marked = {message.id for message in read_po(pot) if message.id}
    assert marked == {message.id for message in _template()}, "run the extract and update commands of the README"


def test_a_translation_is_what_the_person_reads() -> None:
    assert translator("de").gettext("Skip this week") == "Diese Woche aussetzen"
    assert translator("ja").ngettext("{n} report", "{n} reports", 3) == "3件の記録"
    assert translator("fr").ngettext("{n} report", "{n} reports", 1) == "1 déclaration"
    assert translator("fr").ngettext("{n} report", "{n} reports", 2) == "2 déclarations"
    assert translator("en").gettext("Skip this week") == "Skip this week"
    assert translator("pt").gettext("Skip this week") == "Skip this week"  # not shipped: English


def test_the_language_follows_the_choice_then_the_slack_locale_then_the_organisation() -> None:
    assert person_language("de", "fr-FR", "en") == "de"
    assert person_language(None, "fr-FR", "en") == "fr"
    assert person_language(None, "es-LA", "en") == "es"
    assert person_language(None, "ja-JP", "de") == "ja"
    assert person_language(None, "pt-BR", "de") == "de"  # a locale the app does not ship
    assert person_language(None, None, "fr") == "fr"


def test_dates_and_numbers_are_written_the_way_each_language_writes_them() -> None:
    day = dt.date(2026, 12, 1)
    assert paused_message(day) == ":double_vertical_bar: Paused through Tuesday 01 December. `/pulse resume` starts it again sooner."
    assert "Pausiert bis einschließlich 1. Dezember." in paused_message(day, translator("de"))
    assert "En pause jusqu'au 1 décembre inclus." in paused_message(day, translator("fr"))
    assert "En pausa hasta el 1 de diciembre incluido." in paused_message(day, translator("es"))
    assert "12月1日 まで停止します" in paused_message(day, translator("ja"))
    assert translator("de").decimal(1.5) == "1,5" and translator("en").decimal(1.5) == "1.5"
    assert translator("fr").percent(0.25) == "25\u00a0%" and translator("en").percent(0.25) == "25%"


# ---------------------------------------------------------------- every message fits, in every language


def _pulse(**changes: Any) -> PulseView:
    behaviour = load_behaviour(None)
    closes = dt.datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    return PulseView(round_id=7, week=str(WEEK), closes_at=closes, questions=questions_for_week(behaviour.questions, WEEK), **changes)


PULSES = {
    "blank": _pulse(),
    "partly": _pulse(chosen={"capability": 4}),
    "complete": _pulse(chosen={key: 0 for key in ("capability", "workload", "time_saved", "upkeep", "clarity", "rework",
                                                   "workaround", "recognition", "displaced")}, comment="Fine."),
    "closed": _pulse(chosen={"capability": 1}, closed=True),
    "skipped": _pulse(skipped=True),
}


@pytest.mark.parametrize("lang", SHIPPED)
def test_every_person_facing_message_passes_slacks_limits_in_every_language(lang: str) -> None:
    t = translator(lang)
    for pulse in PULSES.values():
        assert_valid_message(pulse_text(pulse, t), pulse_message(pulse, min_group=5, t=t))
    assert_valid_message(reminder_text(PULSES["blank"], t), reminder_message(PULSES["blank"], t))
    assert_valid_view(comment_modal(PULSES["partly"], min_group=5, t=t))

    hidden = HiddenWorkSummary(
        str(WEEK), [CategoryMinutes(key, 95) for key in ("validation", "workaround")], [WeekMinutes("2026-W47", 30)] * 4
    )
    report = SharedReport(str(WEEK), "workaround", 1439, "Forecast assistant", "n" * 500)
    shared = SharedByMe(("2026-W44", str(WEEK)), (report,) * 60, ("UMANAGER",))
    statuses = [
        WeekStatus(enrolled=False, week=str(WEEK)),
        WeekStatus(enrolled=True, week=str(WEEK), paused_until=PAUSED_UNTIL_RESUMED),
        WeekStatus(enrolled=True, week=str(WEEK), paused_until=dt.date(2026, 12, 8)),
        WeekStatus(enrolled=True, week=str(WEEK), expected_at=dt.datetime(2026, 11, 24, 9, tzinfo=UTC)),
        WeekStatus(enrolled=True, week=str(WEEK), days_off=True),
        *(WeekStatus(enrolled=True, week=str(WEEK), pulse=pulse, sent=True) for pulse in PULSES.values()),
    ]
    for status in statuses:
        view = home_view(status, min_group=5, pause_weeks=2, hidden_work=hidden, shared=shared, t=t)
        assert_valid_view(view)
    assert_valid_view(home_view(statuses[3], min_group=5, hidden_work=HiddenWorkSummary(str(WEEK)),
                                shared=SharedByMe((str(WEEK),), (), ()), t=t))

    assert_valid_view(log_modal(min_group=5, note="https://example.slack.com/archives/C1/p1", t=t))
    for shared_with_manager in (False, True):
        logged = LoggedWork(str(WEEK), "exceptions", 90, "Forecast assistant", None, shared_with_manager, 600)
        assert_valid_message(logged_text(logged, t), logged_message(logged, min_group=5, t=t))

    assert_valid_message(help_text(t), help_message(min_group=5, problem="I don't know `/pulse x`.", t=t))
    data = MyData(
        enrolled=True, team="Sales/EMEA", level="lead", time_zone="Europe/Paris", paused_until=dt.date(2026, 12, 8),
        pulses_sent=(str(WEEK),) * 40, answers=tuple((str(WEEK), "A question " * 10, "5 · Very") for _ in range(300)),
        skipped_weeks=("2026-W40",), notes=NOTES,
    )
    for reply in my_data_replies(data, t=t):
        assert_valid_message(reply.text, reply.blocks)
    assert_valid_message("forget", forget_confirmation(t))
    result = Forgotten(3, 12, 2, 1, 1)
    assert_valid_message(result.summary(t), forgotten_message(result, t))
    text = language_message(lang, "slack", t)
    assert len(text) < 3000 and lang in text


@pytest.mark.parametrize("lang", SHIPPED)
def test_every_shipped_explainer_fits_in_every_language(lang: str) -> None:
    library = load_library()
    t = translator(lang)
    for original in library:
        explainer = library.for_reader(original.key, lang)
        assert explainer is not None
        for helpful in (None, True, False):
            view = ExplainerView(explainer, helpful)
            assert_valid_message(explainer_text(view, t), explainer_message(view, t))
        assert_valid_view(question_modal(explainer, t))


def test_every_shipped_explainer_has_a_translation_in_every_language() -> None:
    library = load_library()
    for explainer in library:
        for lang in TRANSLATED:
            translation = library.in_language(explainer.key, lang)
            assert translation is not None, f"{explainer.key} has no {lang} translation"
            assert translation.audience == explainer.audience and translation.week_offset == explainer.week_offset


def test_a_translation_of_no_explainer_stops_start_up(tmp_path: Path) -> None:
    (tmp_path / "mine.de.md").write_text("---\nkey: not-there\nlang: de\ntitle: Nichts\n---\nText.\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="translates no explainer"):
        load_library(tmp_path)


# ---------------------------------------------------------------- the question bank


def test_the_shipped_bank_is_written_in_every_language() -> None:
    bank = load_behaviour(None).questions
    assert bank.declared_languages == SHIPPED
    for question in bank.questions:
        for lang in SHIPPED:
            assert question.missing_language(lang) is None
    capability = bank.core[0]
    assert capability.text_in("fr") == "Dans quelle mesure êtes-vous à l'aise avec les outils d'IA dans votre travail ?"
    assert capability.options[4].label_in("ja") == "5 · とてもある"
    assert capability.options[1].label_in("de") == "2"


def _bank_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, questions: dict[str, Any]) -> str:
    path = tmp_path / "behaviour.yml"
    path.write_text(yaml.safe_dump({"questions": questions}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SettingsError) as error:
        load_behaviour(path)
    return str(error.value)


def _scale(key: str, text: Any, top: Any) -> dict[str, Any]:
    return {"key": key, "text": text, "kind": "scale", "options": [{"label": "1", "value": 1}, {"label": top, "value": 5}]}


def test_a_missing_translation_names_the_question_and_the_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    both = {"en": "How are you?", "de": "Wie geht es dir?"}
    complete = [_scale("a", both, {"en": "Well", "de": "Gut"}), _scale("b", both, {"en": "Well", "de": "Gut"})]
    message = _bank_error(tmp_path, monkeypatch, {"core": [*complete, _scale("c", {"en": "How are you?"}, "5")]})
    assert message.endswith("questions: question c: no de text")
    message = _bank_error(tmp_path, monkeypatch, {"core": [*complete, _scale("c", both, {"en": "Well"})]})
    assert message.endswith("questions: question c: option 2 (Well) has no de label")
    message = _bank_error(tmp_path, monkeypatch, {"languages": ["en", "fr"], "core": complete[:1] * 0 + [
        _scale(k, {"en": "How are you?", "fr": "Ça va ?"}, {"en": "Well", "fr": "Bien"}) for k in "ab"
    ] + [_scale("c", "How are you?", "5")]})
    assert message.endswith("questions: question c: no fr text")
    message = _bank_error(tmp_path, monkeypatch, {"core": [_scale(k, {"en": "Hi", "xx": "Hi"}, "5") for k in "abc"]})
    assert "'xx' is not a language Rollout Pulse ships" in message


# ---------------------------------------------------------------- through Slack


@pytest.fixture
def app(settings: Settings, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    with running_app(settings, db, slack) as running:
        yield running


def _dm(slack: FakeSlack, user_id: str) -> dict[str, Any]:
    return slack.messages["D" + user_id[1:]][0]


def _text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def _buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        element["action_id"]: element
        for block in message["blocks"]
        for element in [*block.get("elements", []), block.get("accessory") or {}]
        if element.get("type") == "button"
    }


def _click(app: RunningApp, user_id: str, action_id: str) -> None:
    message = _dm(app.slack, user_id)
    value = _buttons(message)[action_id].get("value")
    response = app.requests.block_action(user_id, action_id, value, channel_id="D" + user_id[1:], message_ts=message["ts"])
    assert response.status == 200
    app.settle()


def _command(app: RunningApp, user_id: str, text: str) -> str:
    before = len(app.slack.calls_to("response_url"))
    assert app.requests.command(user_id, text).status == 200
    app.settle()
    replies = app.slack.calls_to("response_url")[before:]
    return json.dumps([reply.params for reply in replies], ensure_ascii=False)


def _usergroup_app(database_url: str, db: Database, slack: FakeSlack, tmp_path: Path) -> Iterator[RunningApp]:
    config = tmp_path / "behaviour.yml"
    config.write_text(yaml.safe_dump({"roster": {"source": "usergroups", "teams": {"Sales": "sales"}}}), encoding="utf-8")
    settings = make_settings(database_url=database_url, slack_api_url=slack.url, pulse_config=config)
    with running_app(settings, db, slack) as running:
        yield running


@pytest.fixture
def group_app(database_url: str, db: Database, slack: FakeSlack, tmp_path: Path) -> Iterator[RunningApp]:
    yield from _usergroup_app(database_url, db, slack, tmp_path)


def test_a_new_hire_whose_slack_is_french_gets_the_french_pulse_and_counts_like_everyone(
    group_app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    english = [f"UEN{n}" for n in range(4)]
    for user_id in english:
        slack.add_user(user_id, tz="Europe/Paris", locale="en-US")
        factories.person(db, user_id, tz="Europe/Paris")
    joined = slack.add_user("UCLAIRE", tz="Europe/Paris", locale="fr-FR")
    slack.add_user_group("sales", ["UCLAIRE"])
    event = {k: v for k, v in joined.items() if k != "_locale"}  # an event's user carries no locale
    assert group_app.requests.event({"type": "team_join", "user": event}).status == 200
    group_app.settle()
    assert [call.params.get("include_locale") for call in slack.calls_to("users.info")] == ["1"]
    with db.session() as session:
        assert session.scalar(select(Person.locale).where(Person.slack_user_id == "UCLAIRE")) == "fr-FR"

    with freeze_time(TUESDAY_MORNING):
        run_pulse_job(group_app.db, group_app.services.messenger, group_app.services.behaviour)
    french, english_dm = _dm(slack, "UCLAIRE"), _dm(slack, "UEN0")
    assert "Votre sondage hebdomadaire · 2026-W48" in _text(french)
    assert "Dans quelle mesure êtes-vous à l'aise avec les outils d'IA" in _text(french)
    assert "Your weekly pulse · 2026-W48" in _text(english_dm)
    assert _buttons(french).keys() == _buttons(english_dm).keys()  # the same questions and options

    with freeze_time("2026-11-24 09:05"):
        for user_id in ("UCLAIRE", *english):
            _click(group_app, user_id, "pulse_answer:capability:3")
    assert "1 sur 6 répondue" in _text(_dm(slack, "UCLAIRE"))
    assert "1 of 6 answered" in _text(_dm(slack, "UEN0"))
    assert stored.answers(db, PSEUDONYM_KEY.encode()) == [("capability", 4.0)] * 5  # by value, never by words

    released(db, PSEUDONYM_KEY.encode(), [WEEK], 5, at=final_at(str(WEEK)))
    with db.session() as session:
        figure = session.execute(
            select(ReleasedFigure.people, ReleasedFigure.total).where(
                ReleasedFigure.week == str(WEEK), ReleasedFigure.measure == "q:capability", ReleasedFigure.scope == "org"
            )
        ).one()
    assert tuple(figure) == (5, 20.0)  # Claire's 4 counts with the four English 4s
    columns = {column.name for table in ("responses", "released_figures") for column in _table(db, table)}
    assert not {"language", "locale", "lang"} & columns  # no answer or figure carries a language


def _table(db: Database, name: str) -> list[Any]:
    from bot.models import Base

    return list(Base.metadata.tables[name].columns)


def test_pulse_language_switches_the_next_messages_to_german(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", tz="Europe/Berlin")
    shown = _command(app, "UANNA", "language")
    assert "Rollout Pulse writes to you in English (your organisation's language)" in shown
    assert "Deutsch (`de`)" in shown and "日本語 (`ja`)" in shown

    assert "Erledigt: Ab jetzt schreibt dir Rollout Pulse auf Deutsch" in _command(app, "UANNA", "language de")
    assert "Rollout Pulse schreibt dir auf Deutsch (von dir gewählt)" in _command(app, "UANNA", "language")
    assert "eine einminütige Pulsbefragung pro Woche" in _command(app, "UANNA", "help")

    with freeze_time(TUESDAY_MORNING):
        run_pulse_job(app.db, app.services.messenger, app.services.behaviour)
    assert "Deine wöchentliche Pulsbefragung · 2026-W48" in _text(_dm(slack, "UANNA"))
    assert "Wie sicher fühlst du dich im Umgang mit den KI-Tools" in _text(_dm(slack, "UANNA"))
    with freeze_time("2026-11-24 09:05"):
        _click(app, "UANNA", "pulse_answer:workload:4")
    assert "1 von 6 beantwortet" in _text(_dm(slack, "UANNA"))
    assert stored.answers(db, PSEUDONYM_KEY.encode()) == [("workload", 5.0)]

    # Her Slack locale is not known, so following it again means the organisation's English.
    reply = _command(app, "UANNA", "language auto")
    assert "Rollout Pulse follows your Slack language again: from now on it writes to you in English." in reply


def test_an_unknown_language_gets_a_clear_answer_and_changes_nothing(app: RunningApp, db: Database) -> None:
    factories.person(db, "UANNA")
    reply = _command(app, "UANNA", "language klingon")
    assert "I don't know the language “klingon”" in reply and "Français (`fr`)" in reply
    with db.session() as session:
        assert session.scalar(select(Person.language).where(Person.slack_user_id == "UANNA")) is None
    assert "vous écrit désormais en Français" in _command(app, "UANNA", "language fr-CA")
    assert "escribe en Español" in _command(app, "UANNA", "language español")


def test_the_daily_sync_reads_everyones_slack_locale(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    from bot.roster.service import sync_roster
    from bot.slack.directory import SlackDirectory

    slack.add_user("UKENJI", tz="Asia/Tokyo", locale="ja-JP")
    factories.person(db, "UKENJI", tz="Asia/Tokyo")
    sync_roster(db, SlackDirectory(app.services.messenger.client), away=app.services.behaviour.away_status)
    assert all(call.params.get("include_locale") == "1" for call in slack.calls_to("users.list"))
    with db.session() as session:
        assert session.scalar(select(Person.locale).where(Person.slack_user_id == "UKENJI")) == "ja-JP"
    assert "*名簿に登録されているあなたの情報*" in _command(app, "UKENJI", "mydata")


def test_errors_read_in_the_persons_language(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UMARIA")
    _command(app, "UMARIA", "language es")
    reply = _command(app, "UMARIA", "log 45x review")
    assert "No pude leer «45x» como una duración" in reply
    assert "Por ejemplo: `/pulse log 45m review checked the forecast`" in reply
    assert "`review` (validación y revisión)" in reply
    assert "Registrado: *45 min* de validación y revisión." in _command(app, "UMARIA", "log 45m review")


def test_a_person_gets_the_explainer_in_their_language_and_rates_it_in_it(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    from bot.explainers.service import run_explainer_job

    for user_id in ("UJUAN", "UTOM"):
        factories.person(db, user_id, tz="Europe/Madrid")
    _command(app, "UJUAN", "language es")
    with freeze_time("2026-11-26 09:00"):  # Thursday 10:00 in Madrid
        run_explainer_job(app.db, app.services.messenger, app.services.behaviour, app.settings.explainers)
    spanish, english = _dm(slack, "UJUAN"), _dm(slack, "UTOM")
    key = _buttons(english)["explainer_helpful"]["value"]
    assert _buttons(spanish)["explainer_helpful"]["value"] == key  # the same explainer, by its key
    title = app.settings.explainers.in_language(key, "es").title
    assert spanish["blocks"][0]["text"]["text"] == title
    assert english["blocks"][0]["text"]["text"] == app.settings.explainers.get(key).title
    assert ":thumbsup: Me ayudó" in _text(spanish) and ":thumbsup: Helpful" in _text(english)
    with freeze_time("2026-11-26 09:10"):
        _click(app, "UJUAN", "explainer_helpful")
    assert "Gracias: anotamos que te ayudó." in _text(_dm(slack, "UJUAN"))
    assert _dm(slack, "UJUAN")["blocks"][0]["text"]["text"] == title


# ---------------------------------------------------------------- the council's language and the caller's


NBSP = "\u00a0"  # French and German write "25 %" with a non-breaking space


def _language_app(lang: str, database_url: str, db: Database, slack: FakeSlack, tmp_path: Path) -> Iterator[RunningApp]:
    config = tmp_path / "behaviour.yml"
    config.write_text(yaml.safe_dump({"language": lang}), encoding="utf-8")
    settings = make_settings(database_url=database_url, slack_api_url=slack.url, pulse_config=config)
    with running_app(settings, db, slack) as running:
        yield running


@pytest.fixture
def german_app(database_url: str, db: Database, slack: FakeSlack, tmp_path: Path) -> Iterator[RunningApp]:
    yield from _language_app("de", database_url, db, slack, tmp_path)


@pytest.fixture(params=["fr", "ja"])
def council_app(request: pytest.FixtureRequest, database_url: str, db: Database, slack: FakeSlack, tmp_path: Path) -> Iterator[RunningApp]:
    yield from _language_app(request.param, database_url, db, slack, tmp_path)


def _council_posts(slack: FakeSlack) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    posts = [c.params for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "CCOUNCIL"]
    for params in posts:
        assert_valid_message(params["text"], params["blocks"])
    (main,) = [p for p in posts if not p.get("thread_ts")]
    return main, [p for p in posts if p.get("thread_ts")]


def _decide(app: RunningApp, user_id: str, replies: list[dict[str, Any]], decision: str) -> str:
    """Click a decision on the last rollout of the thread; the confirmation said in the thread."""
    button = next(
        element for reply in reversed(replies) for block in reply["blocks"] if block["type"] == "actions"
        for element in block["elements"] if element["action_id"] == f"digest_decision:{decision}"
    )
    app.slack.reset_calls()
    with freeze_time("2026-11-30 15:00"):
        main_ts = app.slack.messages["CCOUNCIL"][0]["ts"]
        response = app.requests.block_action(
            user_id, button["action_id"], button["value"], channel_id="CCOUNCIL", message_ts="9.0", thread_ts=main_ts
        )
        assert response.status == 200
        app.settle()
    (confirmation,) = app.slack.calls_to("chat.postMessage")
    return str(confirmation.params["text"])


def test_a_large_organisations_digest_is_in_german_whole_and_within_slacks_limits(
    german_app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    from tests.test_size import ALL_TEAMS, BOTTOM, DIGEST_TIME, ROLLOUTS, assert_whole, build_organisation, mrkdwn_of, rollout_name, shown

    organisation = build_organisation(german_app, db, slack)
    with freeze_time(DIGEST_TIME):
        assert run_job("digest", JobContext(german_app.settings, german_app.db, german_app.services.messenger)).posted
    main, replies = _council_posts(slack)
    assert len(replies) > 5
    for params in (main, *replies):
        assert_whole(params["text"] + mrkdwn_of(params["blocks"]))
    top = mrkdwn_of(main["blocks"])
    assert main["blocks"][0]["text"]["text"] == "Gremiumsbericht · 2026-W48"
    assert main["text"] == f"Gremiumsbericht für 2026-W48: 750 von 750 haben geantwortet · 100{NBSP}%"
    assert "Kompetenz: 3,0" in top and "*Warnungen*" in top
    for n in range(1, ROLLOUTS, 2):
        assert f":octagonal_sign: *{shown(rollout_name(n))}*: niedrige Kompetenz; ungünstige Arbeitslast" in top
    cut = re.search(r"Warnungen: (\d+) von (\d+) Warnungen hier angezeigt; alle stehen im Thread unter \*Warnungen\*", top)
    assert cut is not None and int(cut[1]) < int(cut[2])
    assert "Im Thread: Warnungen, Alle Fragen, Nach Team, Einführungen und das Trenddiagramm." in top

    thread = "\n".join(mrkdwn_of(p["blocks"]) for p in replies)
    for path in ALL_TEAMS:
        assert len(re.findall(rf"^• {re.escape(shown(path))}: \d+ Antworten \(100{NBSP}%\)", thread, flags=re.MULTILINE)) == 1, path
    for path in [path for n, path in enumerate(BOTTOM) if n % 2]:
        assert f":warning: {shown(path)}: Kompetenz 2,0 (unter 3,0)" in thread
        assert f":warning: {shown(path)}: Positive Arbeitslast 0{NBSP}% (unter 50{NBSP}%)" in thread
    assert len(re.findall(r"^• :warning: ", thread, flags=re.MULTILINE)) == int(cut[2])
    assert "*Nach Team* (nur Gruppen, die groß genug sind, um anonym zu bleiben) (Fortsetzung)" in thread
    assert "Wie sicher fühlst du dich im Umgang mit den KI-Tools" in thread  # the bank's own German
    for n in range(ROLLOUTS):
        holding = [p for p in replies if f"*{shown(rollout_name(n))}*\n" in mrkdwn_of(p["blocks"])]
        assert len(holding) == 1, rollout_name(n)
    labels = {e["text"]["text"] for p in replies for b in p["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert labels == {"Fortsetzen", "Pausieren", "Nächste Woche erneut prüfen"}
    assert "(live seit 7. Sept. 2026, Woche 11 · in den ersten 90 Tagen) · Kompetenzziel noch nicht erreicht" in thread
    for english in ("answered", "Council digest", "Capability", "below", "(continued)", "Rollouts"):
        assert english not in json.dumps([main, *replies], ensure_ascii=False), english
    complete = json.dumps([c.params for c in slack.calls_to("files.completeUploadExternal")], ensure_ascii=False)
    assert "Trends bis 2026-W48" in complete

    said = _decide(german_app, organisation.council, replies, "pause")
    assert re.fullmatch(rf"Entscheidung zu \*Assistant \d\d for R&amp;D .+\* für 2026-W48: \*Pausieren\*, von <@{organisation.council}>\.", said)


def test_the_digest_its_comments_and_decisions_follow_the_council_language(
    council_app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    from tests.test_digest import answer_the_week, people_of

    answer_the_week(council_app, db, slack)
    with freeze_time("2026-11-30 14:00"):
        assert run_job("digest", JobContext(council_app.settings, council_app.db, council_app.services.messenger)).posted
    main, replies = _council_posts(slack)
    everything = json.dumps([main["blocks"], *(p["blocks"] for p in replies)], ensure_ascii=False)
    lang = council_app.services.behaviour.language
    if lang == "fr":
        assert main["blocks"][0]["text"]["text"] == "Bilan du conseil · 2026-W48"
        expected = [
            f"19 sur 19 ont répondu · 100{NBSP}%",
            f"Maîtrise: 3,3 · 58{NBSP}% favorables",
            f"Sales/EMEA : 6 réponses (100{NBSP}%) · maîtrise 4,0",
            f"Autres équipes : 7 réponses (100{NBSP}%) · maîtrise 3,9",
            "Sales/Americas: Maîtrise 2,0 (sous 3,0)",
            "Forecast copilot (en service depuis le 2 nov. 2026, semaine 3 · dans ses 90 premiers jours)",
            "Dans quelle mesure êtes-vous à l'aise avec les outils d'IA dans votre travail ?",
            "Aucun chiffre ne porte sur moins de 5 personnes",
        ]
        buttons = {"Poursuivre", "Suspendre", "Revoir la semaine prochaine"}
        decided = "Décision sur *Forecast copilot* pour 2026-W48 : *Revoir la semaine prochaine*, par <@"
    else:
        assert main["blocks"][0]["text"]["text"] == "評議会ダイジェスト · 2026-W48"
        expected = [
            "19人中19人が回答 · 100%",
            "習熟度: 3.3 · 好意的 58%",
            "Sales/EMEA: 回答 6人（100%）· 習熟度 4.0",
            "その他のチーム: 回答 7人（100%）· 習熟度 3.9",
            "Sales/Americas: 習熟度 2.0（3.0 未満）",
            "Forecast copilot（2026年11月2日 稼働開始、3週目 · 最初の90日間）",
            "5人未満を対象とする数値はなく",
        ]
        buttons = {"継続", "一時停止", "来週あらためて検討"}
        decided = "*Forecast copilot* の 2026-W48 の判断: *来週あらためて検討*（<@"
    for text in expected:
        assert text in everything, text
    assert {e["text"]["text"] for p in replies for b in p["blocks"] if b["type"] == "actions" for e in b["elements"]} == buttons
    for english in ("answered", "Council digest", "Capability", "Other teams", "Continue"):
        assert english not in everything, english
    assert _decide(council_app, people_of("Legal")[0], replies, "review").startswith(decided)


def test_the_weeks_comments_are_headed_in_the_council_language() -> None:
    from bot.slack.blocks.comments import comment_messages

    comments = ["Das Tool spart mir Zeit & Nerven.", "<!channel> zu viel Nacharbeit", "x" * 2900] * 20
    for lang, heading in (("de", "60 Kommentare, wörtlich, in alphabetischer Reihenfolge"), ("ja", "コメント60件を、原文のまま")):
        messages = comment_messages(str(WEEK), comments, translator(lang))
        assert len(messages) > 1
        for number, (text, blocks) in enumerate(messages, start=1):
            assert_valid_message(text, blocks)
            assert heading in blocks[0]["elements"][0]["text"]
            assert "<!channel>" not in json.dumps(blocks)
        assert messages[1][0] == (
            f"Kommentare aus der Pulsbefragung für {WEEK} · Nachricht 2 von {len(messages)}" if lang == "de"
            else f"{WEEK} のパルスサーベイのコメント · メッセージ 2/{len(messages)}"
        )
    (single,) = comment_messages(str(WEEK), ["Gut."], translator("de"))
    assert "1 Kommentar, wörtlich, ohne Namen oder Team" in single[1][0]["elements"][0]["text"]


def test_a_french_manager_of_60_teams_reads_the_summary_in_french(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    from tests.test_size import MANAGED, assert_whole, build_organisation, mrkdwn_of, shown, summary_replies

    organisation = build_organisation(app, db, slack)
    assert "vous écrit désormais en Français" in _command(app, organisation.manager, "language fr")
    with freeze_time("2026-12-01 10:00"):
        received = summary_replies(app, organisation.manager, "summary 12w")
    assert len(received) > 5
    for params in received:
        assert_valid_message(params["text"], params["blocks"])
        assert_whole(params["text"] + mrkdwn_of(params["blocks"]))
    everything = "\n".join(mrkdwn_of(p["blocks"]) for p in received)
    assert received[0]["blocks"][0]["text"]["text"] == "Synthèse d'équipe · 12 dernières semaines"
    assert received[5]["blocks"][0]["text"]["text"] == "Synthèse d'équipe · 12 dernières semaines (suite)"
    for path in organisation.managed:
        assert everything.count(f"*{shown(path)}*\n") == 1, path
    assert everything.count(f"2026-W48 : 5 réponses (100{NBSP}%) · maîtrise ") == MANAGED
    assert everything.count("2026-W49 (encore ouverte) : trop peu de personnes sondées pour afficher l'avancement") == MANAGED
    assert "maîtrise 2,0 · charge de travail 1,0 · temps IA net – · travail invisible –" in everything
    assert "Maîtrise 2,0 (sous 3,0)" in everything  # the alerts too
    assert "Dans quelle mesure êtes-vous à l'aise avec les outils d'IA dans votre travail ? — 2,0 · 0" in everything
    assert f"équipes sur {MANAGED} affichées pour l'instant" in everything
    assert "Vous seul voyez ce message. Aucun chiffre ne porte sur moins de 5 personnes" in mrkdwn_of(received[-1]["blocks"])
    labels = {e["text"]["text"] for p in received for b in p["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert labels == {"Afficher les équipes suivantes"}
    for english in ("answered", "capability", "still open", "Only you can see this", "(continued)"):
        assert english not in json.dumps(received, ensure_ascii=False), english

    # The same summary for an English caller reads as it always has.
    with freeze_time("2026-12-01 10:00"):
        english = summary_replies(app, organisation.council, f"summary {shown(organisation.managed[1])} 2w")
    assert "• 2026-W48: 5 answered (100%) · capability 2.0 · workload 1.0" in mrkdwn_of(english[0]["blocks"])


def test_a_question_from_an_explainer_reaches_the_council_in_its_language() -> None:
    from bot.explainers.views import CouncilQuestion
    from bot.slack.blocks.explainers import council_question_message, council_question_text

    anonymous = CouncilQuestion(7, "go-live", "Was sich beim Go-live ändert", "Wer prüft <die> Zahlen & wann?" * 40, str(WEEK))
    named = CouncilQuestion(8, "go-live", "Ce qui change", "Qui valide ?", str(WEEK), asker="UCLAIRE")
    german, french = translator("de"), translator("fr")
    assert council_question_text(anonymous, german) == "Jemand hat dem Gremium eine Frage zu „Was sich beim Go-live ändert“ gestellt"
    assert "Anonym gestellt: Rollout Pulse speichert nicht, wer gefragt hat." in json.dumps(
        council_question_message(anonymous, german), ensure_ascii=False
    )
    assert_valid_message(council_question_text(anonymous, german), council_question_message(anonymous, german))
    shown = json.dumps(council_question_message(named, french), ensure_ascii=False)
    assert "*<@UCLAIRE> a posé une question sur la fiche « Ce qui change »*" in shown
    assert f"Posée avec son nom, par choix, en {WEEK}." in shown
