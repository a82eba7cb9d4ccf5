"""Slack's end of Socket Mode, on loopback, for tests.

The app asks the local Web API server (apps.connections.open) where to connect and is given this
peer's ws:// URL. The peer says hello as Slack does, sends envelopes (slash_commands, interactive,
events_api) with the payloads Slack sends over HTTP, and collects the app's acknowledgements,
which name the envelope they answer.
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tests.slack_requests import SignedSlack
from tests.slack_server import FakeSlack

_envelope_numbers = itertools.count(1)


class SocketModePeer:
    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.acks: dict[str, dict[str, Any]] = {}
        self.connections = 0
        self._changed = threading.Condition()
        self._connection: ServerConnection | None = None
        self._server: Server = serve(self._session, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link/?ticket=test-ticket&app_id=A0001"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> SocketModePeer:
        self._thread.start()
        self.slack.socket_mode_url = self.url
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.slack.socket_mode_url = None
        self._server.shutdown()
        self._thread.join(timeout=10)

    # -- the connection (server threads) ---------------------------------------------------------

    def _session(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "applink-test", "approximate_connection_time": 18060},
            "connection_info": {"app_id": "A0001"},
        }))
        with self._changed:
            self._connection = connection
            self.connections += 1
            self._changed.notify_all()
        try:
            for message in connection:
                answer = json.loads(message)
                with self._changed:
                    self.acks[answer["envelope_id"]] = answer
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                if self._connection is connection:
                    self._connection = None
                self._changed.notify_all()

    # -- what a test does ------------------------------------------------------------------------

    def wait_connected(self, timeout: float, alive: Any = None) -> None:
        """Until the app has connected; `alive()` returning False (the app exited) ends the wait."""
        with self._changed:
            for _ in range(int(timeout * 10)):
                if self._connection is not None or (alive is not None and not alive()):
                    break
                self._changed.wait(0.1)
            assert self._connection is not None, "the app did not open its Socket Mode connection"

    def send(self, kind: str, payload: dict[str, Any]) -> str:
        envelope_id = f"envelope-{next(_envelope_numbers):04d}"
        envelope = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        with self._changed:
            assert self._connection is not None, "no app is connected"
            self._connection.send(json.dumps(envelope))
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The app's acknowledgement of an envelope, once it arrives."""
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"no acknowledgement of {envelope_id} within {timeout}s")
            return self.acks[envelope_id]


class Envelopes(SignedSlack):
    """SignedSlack's payloads, as Slack sends them, down the Socket Mode connection instead of
    posted: each call returns the envelope id to wait for the acknowledgement of."""

    def __init__(self, peer: SocketModePeer) -> None:
        super().__init__("http://unused", "unused", response_url_factory=peer.slack.response_url)
        self.peer = peer

    def _post_form(self, fields: dict[str, str]) -> str:  # type: ignore[override]
        return self.peer.send("slash_commands", fields)

    def _post_payload(self, payload: dict[str, Any]) -> str:  # type: ignore[override]
        return self.peer.send("interactive", payload)

    def _post_json(self, payload: dict[str, Any]) -> str:  # type: ignore[override]
        return self.peer.send("events_api", payload)
