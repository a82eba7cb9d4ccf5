"""Socket Mode: Slack's requests come over a WebSocket the app opens, so no public URL is needed.

Slack opens the connection only for the app-level token (`xapp-…`, scope `connections:write`);
what arrives on it is Slack's by construction, so requests carry no signature and the app needs
no signing secret. Each envelope goes to the same Bolt app, with the same listeners, as a request
over HTTP, and is acknowledged with its envelope_id.
"""

from __future__ import annotations

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import PulseError
from bot.slack.app import Services, build_app


class SocketMode:
    """The app connected to Slack over Socket Mode, until closed."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        settings.require("slack_app_token", purpose="for Socket Mode")
        assert settings.slack_app_token is not None
        self.app_token = settings.slack_app_token
        self.handler = SocketModeHandler(build_app(services, socket_mode=True), self.app_token)

    def connect(self) -> None:
        """Open the connection; a token Slack refuses is one line, not a traceback.

        The first WebSocket URL is asked for here rather than by slack_sdk, which would log the
        refusal with Slack's whole answer before raising; later reconnections are slack_sdk's.
        """
        client = self.handler.client
        try:
            client.wss_uri = client.web_client.apps_connections_open(app_token=self.app_token)["url"]
            self.handler.connect()
        except SlackApiError as error:
            code = error.response.get("error", "unknown_error")
            raise PulseError(
                f"Slack refused Socket Mode: {code} (SLACK_APP_TOKEN must be an app-level token with connections:write)"
            ) from None
        except (SlackClientError, OSError) as error:
            raise PulseError(f"Slack could not be reached for Socket Mode: {type(error).__name__}") from None

    def close(self) -> None:
        self.handler.close()
