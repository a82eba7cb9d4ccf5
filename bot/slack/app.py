"""Build the Bolt app and register each feature's listeners."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cached_property

from slack_bolt import App

from bot.db import Database
from bot.settings import Behaviour, Settings
from bot.slack.client import make_web_client
from bot.slack.commands import CommandRouter
from bot.slack.messenger import SlackMessenger

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What listeners need: settings, the database and the Slack messenger."""

    settings: Settings
    db: Database
    messenger: SlackMessenger
    commands: CommandRouter = field(default_factory=CommandRouter)

    @property
    def behaviour(self) -> Behaviour:
        return self.settings.behaviour

    @cached_property
    def key(self) -> bytes:
        return self.settings.pseudonym_key

    @property
    def min_group(self) -> int:
        return self.behaviour.min_group_size


def make_services(settings: Settings, db: Database) -> Services:
    settings.require("slack_bot_token", purpose="to talk to Slack")
    client = make_web_client(settings.slack_bot_token, settings.slack_api_url)
    return Services(settings, db, SlackMessenger(client, min_group=settings.behaviour.min_group_size))


def build_app(services: Services, *, listener_executor: Executor | None = None) -> App:
    from bot.slack import commands, council, explainers, home, labour, pulse, rights, roster, summary

    settings = services.settings
    settings.require("slack_signing_secret", purpose="to verify requests from Slack")
    settings.require("pulse_pseudonym_key", purpose="to store answers")
    app = App(
        client=services.messenger.client,
        signing_secret=settings.slack_signing_secret,
        token_verification_enabled=False,
        listener_executor=listener_executor,
        logger=logging.getLogger("bot.slack.bolt"),
    )
    commands.register(app, services)
    pulse.register(app, services)
    home.register(app, services)
    labour.register(app, services)
    explainers.register(app, services)
    roster.register(app, services)
    council.register(app, services)
    summary.register(app, services)
    rights.register(app, services)
    return app
