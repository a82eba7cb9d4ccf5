"""The HTTP entry point: POST /slack/events for everything from Slack, GET /healthz, and in OAuth
mode GET /slack/install and GET /slack/oauth_redirect (Bolt's install flow)."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_sdk.signature import SignatureVerifier

from bot.db import Database
from bot.slack.payloads import payload_problem

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]

# Slack's largest requests are view submissions: a modal of at most 100 blocks and what was typed
# into its inputs (3,000 characters each at most), form-encoded at up to nine bytes a character:
# a few MB at the very most. Anything larger did not come from Slack and is refused before it is
# read into memory.
MAX_BODY_BYTES = 8 * 1024 * 1024


class PulseWeb:
    """A WSGI application; gunicorn serves it in production, wsgiref in tests."""

    def __init__(self, app: App, db: Database, *, signing_secret: str) -> None:
        self.slack = SlackEvents(app, signing_secret)
        self.db = db
        flow = app.oauth_flow
        self.install_paths = frozenset() if flow is None else frozenset({flow.install_path, flow.redirect_uri_path})

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return self._health(start_response)
        if path == "/slack/events":
            if method != "POST":
                return _plain(start_response, "405 Method Not Allowed", "POST only")
            if (_declared_length(environ) or 0) > MAX_BODY_BYTES:
                log.info("slack.request_refused reason=too_large")
                return _plain(start_response, "413 Content Too Large", "request too large")
            return self.slack(environ, start_response)
        if path in self.install_paths:
            if method != "GET":
                return _plain(start_response, "405 Method Not Allowed", "GET only")
            return self.slack(environ, start_response)  # Bolt's OAuth flow answers both
        return _plain(start_response, "404 Not Found", "not found")

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        if self.db.ping():
            return _plain(start_response, "200 OK", "ok")
        return _plain(start_response, "503 Service Unavailable", "database unavailable")


class SlackEvents(SlackRequestHandler):
    """Bolt's WSGI handler, refusing what it cannot read instead of failing on it with a 500.

    Nothing Slack did not sign is parsed: the signature is checked on the raw body first (Bolt
    checks it again, which costs one HMAC). A signed body that is not the JSON object or form
    Slack sends, or whose payload lacks Slack's shape, is refused with 400: Bolt would raise
    while reading or matching it, and a listener half-way through its work.
    """

    def __init__(self, app: App, signing_secret: str) -> None:
        super().__init__(app, path="/slack/events")
        self.verifier = SignatureVerifier(signing_secret)

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        headers = request.get_headers()
        body = _utf8_body(request.environ)
        if body is None:
            log.info("slack.request_refused reason=unreadable_body")
            return BoltResponse(status=400, body={"error": "the body must be UTF-8 text of its stated length"})
        if not self._signed_by_slack(body, headers):
            return BoltResponse(status=401, body={"error": "invalid request"})
        try:
            bolt_request = BoltRequest(body=body, query=request.query_string, headers=headers)
        except (ValueError, AttributeError, TypeError) as error:
            # Bolt assumes Slack's shapes while it parses: a JSON object, or a form whose
            # `payload` is one. Invalid JSON is a ValueError, a list or a number the other two.
            log.info("slack.request_refused reason=%s", type(error).__name__)
            return BoltResponse(status=400, body={"error": "the body is not a Slack request"})
        problem = payload_problem(bolt_request.body)
        if problem is not None:
            log.info("slack.request_refused reason=payload_shape")
            return BoltResponse(status=400, body={"error": f"not a Slack payload: {problem[:200]}"})
        return self.app.dispatch(bolt_request)

    def _signed_by_slack(self, body: str, headers: dict[str, Any]) -> bool:
        timestamp, signature = headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
        try:
            return self.verifier.is_valid(body, timestamp, signature)
        except (ValueError, OverflowError):  # a timestamp that is not a number of seconds
            return False


def _utf8_body(environ: dict[str, Any]) -> str | None:
    """The request body as text, or None when it cannot be: Slack sends UTF-8 only."""
    length = _declared_length(environ)
    if length is None or length < 0:
        return None
    try:
        raw: bytes = environ["wsgi.input"].read(length) if length else b""
        return raw.decode("utf-8")
    except ValueError:  # bytes that are not UTF-8
        return None


def _declared_length(environ: dict[str, Any]) -> int | None:
    """The body's length as the request states it (0 when it states none); None when it is not a number."""
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = text.encode("utf-8")
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def create_app() -> PulseWeb:
    """Gunicorn's entry (`bot.slack.web:create_app()`): settings from the environment."""
    from bot.settings import load_settings
    from bot.slack.app import build_app, make_services

    settings = load_settings()
    db = Database(settings.database_url)
    web = PulseWeb(build_app(make_services(settings, db)), db, signing_secret=settings.slack_signing_secret or "")
    # What is loaded by now lives as long as the worker. Left to the cyclic collector, it is
    # rescanned every so often, pausing every thread (and so every ack) for a tenth of a second.
    gc.freeze()
    return web
