"""The yardstick for acknowledgement: a Bolt app that acks every block action and does nothing else.

Served by gunicorn exactly like the real app (`bench.bare_app:create_app()`), with the same
signing secret, the same Web API base URL (Bolt checks the token once with auth.test) and the
same tuning of the process (its start-up heap frozen out of garbage collection).
"""

from __future__ import annotations

import gc
import os
import re

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient


def create_app() -> SlackRequestHandler:
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"], token_verification_enabled=False)

    @app.action(re.compile(".*"))
    def acknowledge(ack: Ack) -> None:
        ack()

    handler = SlackRequestHandler(app, path="/slack/events")
    gc.freeze()
    return handler
