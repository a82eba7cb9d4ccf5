"""Build the Bolt app and register each feature's listeners."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot.slack import commands, council, explainers, home, labour, pulse, rights, roster, summary
from bot.slack.background import Traffic
from bot.slack.services import Services, make_services

__all__ = ["Services", "build_app", "make_services"]

log = logging.getLogger(__name__)


class _CountingApp(App):
    """Bolt's App, counting the requests it is serving: work after acks gives way to them."""

    def __init__(self, traffic: Traffic, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.traffic = traffic

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        with self.traffic.request():
            return super().dispatch(req)


def build_app(services: Services, *, listener_executor: Executor | None = None) -> App:
    settings = services.settings
    settings.require("slack_signing_secret", purpose="to verify requests from Slack")
    settings.require("pulse_pseudonym_key", purpose="to store answers")
    app = _CountingApp(
        services.background.traffic,
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
