"""The HTTP entry point: POST /slack/events for everything from Slack, GET /healthz."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.db import Database

StartResponse = Callable[..., Any]


class PulseWeb:
    """A WSGI application; gunicorn serves it in production, wsgiref in tests."""

    def __init__(self, app: App, db: Database) -> None:
        self.slack = SlackRequestHandler(app, path="/slack/events")
        self.db = db

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return self._health(start_response)
        if path == "/slack/events":
            if method != "POST":
                return _plain(start_response, "405 Method Not Allowed", "POST only")
            return self.slack(environ, start_response)
        return _plain(start_response, "404 Not Found", "not found")

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        if self.db.ping():
            return _plain(start_response, "200 OK", "ok")
        return _plain(start_response, "503 Service Unavailable", "database unavailable")


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
    return PulseWeb(build_app(make_services(settings, db)), db)
