"""`/pulse`: acknowledge at once, parse the text in one place, hand the command to its feature."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.errors import PulseError
from bot.i18n import NATIVE_NAMES, SHIPPED, language_of, person_language, translator
from bot.roster.language import choose_language, language_choice
from bot.slack.blocks.layout import Reply
from bot.slack.blocks.replies import (
    help_message,
    help_text,
    language_message,
    language_set_message,
    problem_message,
    problem_text,
    unknown_language_message,
)
from bot.slack.inputs import Language, SlashCommand, UsageError, parse_slash
from bot.slack.services import Services

# `/pulse language auto` (or `slack`) goes back to the person's Slack language.
FOLLOW_SLACK = ("auto", "slack", "default")


def register(app: App, services: Services) -> None:
    def show_help(respond: Respond, user_id: str, problem: PulseError | None = None) -> None:
        t = services.translator(user_id)
        text = problem.in_language(t) if problem else None
        blocks = help_message(min_group=services.min_group, problem=text, t=t)
        respond(blocks=blocks, text=problem_text(text) if text else help_text(t), response_type="ephemeral")

    @app.command("/pulse")
    def pulse_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user_id = command.get("user_id", "")
        try:
            parsed = parse_slash(command.get("text", ""))
        except UsageError as error:
            show_help(respond, user_id, error)
            return
        handler = services.commands.handler(parsed)
        if handler is None:
            show_help(respond, user_id)
            return
        try:
            handler(parsed, command, respond, client)
        except PulseError as error:
            text = error.in_language(services.translator(user_id))
            respond(blocks=problem_message(text), text=problem_text(text), response_type="ephemeral")

    @services.commands.handles(Language)
    def language_command(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        assert isinstance(parsed, Language)
        user_id = command["user_id"]
        default = services.behaviour.language
        chosen, locale = language_choice(services.db, user_id)
        current = person_language(chosen, locale, default)
        if parsed.code is None:
            source = "chosen" if language_of(chosen) else "slack" if language_of(locale) else "organisation"
            respond(text=language_message(current, source, translator(current)), response_type="ephemeral")
            return
        code = parsed.code.strip().lower()
        if code in FOLLOW_SLACK:
            choose_language(services.db, user_id, None)
            lang = person_language(None, locale, default)
            respond(text=language_set_message(lang, True, translator(lang)), response_type="ephemeral")
            return
        lang = _named_language(code)
        if lang is None:
            text = unknown_language_message(parsed.code, translator(current))
            respond(blocks=problem_message(text), text=problem_text(text), response_type="ephemeral")
            return
        choose_language(services.db, user_id, lang)
        respond(text=language_set_message(lang, False, translator(lang)), response_type="ephemeral")


_CODE = re.compile(r"^[a-z]{2}(?:[-_][a-z0-9]{2,3})?$")


def _named_language(word: str) -> str | None:
    """The shipped language a person typed: its code, a locale such as `de-CH`, or its own name."""
    if _CODE.match(word):
        return language_of(word)
    return next((lang for lang in SHIPPED if NATIVE_NAMES[lang].casefold() == word.casefold()), None)


def send(respond: Respond, messages: list[Reply]) -> None:
    """The messages of one ephemeral reply, in order, each a message of its own."""
    for message in messages:
        respond(blocks=message.blocks, text=message.text, response_type="ephemeral", replace_original=False)
