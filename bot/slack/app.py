"""Build the Bolt app and register each feature's listeners."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

from bot.db import Database
from bot.settings import Behaviour, Settings
from bot.slack.background import Background, Traffic
from bot.slack.client import make_web_client
from bot.slack.commands import CommandRouter
from bot.slack.messenger import SlackMessenger

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What listeners need: settings, the database, the Slack messenger and a pool for later work."""

    settings: Settings
    db: Database
    messenger: SlackMessenger
    commands: CommandRouter = field(default_factory=CommandRouter)
    background: Background = field(default_factory=Background)

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


def make_services(settings: Settings, db: Database, *, background: Executor | None = None) -> Services:
    settings.require("slack_bot_token", purpose="to talk to Slack")
    client = make_web_client(settings.slack_bot_token, settings.slack_api_url)
    messenger = SlackMessenger(client, min_group=settings.behaviour.min_group_size)
    return Services(settings, db, messenger, background=Background(background))


class _OurClientCarriesTheToken(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN goes unused whenever it is set beside the client it is given;
    the client is built from that very token, so the warning says nothing true."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_BOLT_LOG = logging.getLogger("bot.slack.bolt")
_BOLT_LOG.addFilter(_OurClientCarriesTheToken())


class _CountingApp(App):
    """Bolt's App, counting the requests it is serving: work after acks gives way to them."""

    def __init__(self, traffic: Traffic, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.traffic = traffic

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        with self.traffic.request():
            return super().dispatch(req)


def build_app(services: Services, *, listener_executor: Executor | None = None, socket_mode: bool = False) -> App:
    """The Bolt app. Over HTTP every request is checked against the signing secret; over Socket
    Mode nothing is signed (the connection itself is Slack's), so no secret is needed."""
    from bot.slack import commands, council, explainers, home, labour, pulse, rights, roster, stale, summary

    settings = services.settings
    if not socket_mode:
        settings.require("slack_signing_secret", purpose="to verify requests from Slack")
    settings.require("pulse_pseudonym_key", purpose="to store answers")
    app = _CountingApp(
        services.background.traffic,
        client=services.messenger.client,
        signing_secret="" if socket_mode else settings.slack_signing_secret,
        request_verification_enabled=not socket_mode,
        token_verification_enabled=False,
        listener_executor=listener_executor,
        logger=_BOLT_LOG,
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
    stale.register(app, services)  # last: it answers the buttons no feature took
    return app
