"""Build the Bolt app and register each feature's listeners."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

from bot.slack import commands, council, explainers, home, installations, labour, pulse, rights, roster, stale, summary
from bot.slack.background import Traffic
from bot.slack.client import make_web_client
from bot.slack.services import Services, make_services

__all__ = ["Services", "build_app", "make_services"]

log = logging.getLogger(__name__)


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
    settings = services.settings
    if not socket_mode:
        settings.require("slack_signing_secret", purpose="to verify requests from Slack")
    settings.require("pulse_pseudonym_key", purpose="to store answers")
    oauth: dict[str, Any] = {}
    client = services.messenger.client
    if services.installations is not None:
        # OAuth mode: each request is authorised from the installation store, and its client
        # carries the token found there; Bolt's own client has none.
        client = make_web_client(None, settings.slack_api_url)
        oauth = services.installations.bolt_arguments(client, _BOLT_LOG)
    app = _CountingApp(
        services.background.traffic,
        client=client,
        signing_secret="" if socket_mode else settings.slack_signing_secret,
        request_verification_enabled=not socket_mode,
        token_verification_enabled=False,
        listener_executor=listener_executor,
        logger=_BOLT_LOG,
        **oauth,
    )
    installations.register(app, services)
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
