"""What every listener is given: settings, the database, the Slack messenger and a pool for work
after the acknowledgement. A module of its own, so listeners and the app that registers them never
import each other."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient

from bot.db import Database
from bot.i18n import Translator, translator
from bot.roster.language import language_for
from bot.settings import Behaviour, Settings
from bot.slack.background import Background
from bot.slack.inputs import SlashCommand
from bot.slack.installations import Installations, acting_client, installations_for, org_wide
from bot.slack.messenger import SlackMessenger

if TYPE_CHECKING:  # Bolt itself is imported only where an app is built: a job needs none
    from slack_bolt import Respond
else:
    Respond = Any


Handler = Callable[[Any, dict[str, Any], Respond, WebClient], None]


class CommandRouter:
    """Which feature answers which `/pulse` subcommand; each feature registers its own."""

    def __init__(self) -> None:
        self._handlers: dict[type, Handler] = {}

    def handles(self, kind: type) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._handlers[kind] = handler
            return handler

        return register

    def handler(self, command: SlashCommand) -> Handler | None:
        return self._handlers.get(type(command))


@dataclass
class Services:
    """What listeners need: settings, the database, the Slack messenger and a pool for later work."""

    settings: Settings
    db: Database
    messenger: SlackMessenger
    commands: CommandRouter = field(default_factory=CommandRouter)
    background: Background = field(default_factory=Background)
    # OAuth mode's installations; None in token mode (SLACK_BOT_TOKEN).
    installations: Installations | None = None

    def after_ack(self, name: str, work: Callable[[], None]) -> None:
        """Run `work` after the listener returns, so it never holds up the acknowledgement of a request.

        Bolt acknowledges from its small listener pool; work left there makes the next requests'
        acks wait for a free thread.
        """
        self.background.submit(name, work)

    @property
    def behaviour(self) -> Behaviour:
        return self.settings.behaviour

    @cached_property
    def key(self) -> bytes:
        return self.settings.pseudonym_key

    @property
    def min_group(self) -> int:
        return self.behaviour.min_group_size

    @property
    def org_wide(self) -> bool:
        """Whether the app acts through an org-wide install of an Enterprise Grid organisation."""
        return org_wide(self.installations)

    def language(self, user_id: str) -> str:
        """The language `user_id` reads (their choice, their Slack locale's, or the organisation's)."""
        return language_for(self.db, user_id, self.behaviour.language)

    def translator(self, user_id: str) -> Translator:
        return translator(self.language(user_id))


def make_services(settings: Settings, db: Database, *, background: Executor | None = None) -> Services:
    installations = installations_for(settings, db.engine)
    client = acting_client(settings, db.engine, installations)
    messenger = SlackMessenger(client, min_group=settings.behaviour.min_group_size)
    return Services(settings, db, messenger, background=Background(background), installations=installations)
