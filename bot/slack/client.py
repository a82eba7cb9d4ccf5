"""The one place the app builds a Slack WebClient, so every call gets the same retry policy,
and says in words why a call never reached Slack."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

DEFAULT_BASE_URL = "https://slack.com/api/"
TIMEOUT = 30  # seconds a Web API call may take before it counts as unanswered


TokenSource = Callable[[], str]


class InstalledClient(WebClient):
    """A WebClient whose token is asked for at each call, so a token refreshed by rotation (or
    a new installation) is used from the next call on. OAuth mode's client for work outside a
    request; the source caches, so a call costs no database read."""

    def __init__(self, tokens: TokenSource, **kwargs: Any) -> None:
        self.tokens = tokens
        super().__init__(token=None, **kwargs)

    @property  # type: ignore[override]
    def token(self) -> str:
        return self.tokens()

    @token.setter
    def token(self, value: str | None) -> None:
        if value is not None:  # WebClient sets None as it starts; nothing else may set one
            raise AttributeError("the installation decides this client's token")


def make_web_client(
    token: str | TokenSource | None,
    base_url: str = DEFAULT_BASE_URL,
    *,
    timeout: int | None = None,
    max_retries: int = 4,
) -> WebClient:
    """A client with the app's retry policy, for a token, or for a source of tokens (OAuth mode)."""
    options: dict[str, Any] = {
        "base_url": _with_trailing_slash(base_url),
        "timeout": TIMEOUT if timeout is None else timeout,
        "retry_handlers": _retry_handlers(max_retries),
    }
    if callable(token):
        return InstalledClient(token, **options)
    return WebClient(token=token, **options)


def without_unsafe_retries(client: WebClient) -> WebClient:
    """The same client, but a call that fails is not repeated, except after a 429.

    A 5xx, a dropped connection or a timeout can come after Slack has already posted the message,
    so repeating the call could post it twice; the caller decides instead (it looks first). A 429
    is safe to repeat: Slack did nothing with the call.
    """
    options: dict[str, Any] = {
        "base_url": client.base_url,
        "timeout": client.timeout,
        "retry_handlers": [handler for handler in client.retry_handlers if isinstance(handler, RateLimitErrorRetryHandler)],
    }
    if isinstance(client, InstalledClient):
        return InstalledClient(client.tokens, **options)
    return WebClient(token=client.token, **options)


class _DroppedConnectionRetryHandler(ConnectionErrorRetryHandler):
    """slack_sdk's connection-error retries, except where trying again cannot help: a host name
    that does not resolve, or a host that refuses the connection, is a wrong SLACK_API_URL or a
    network without a way out, and is reported at once rather than after a minute of back-off."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:  # type: ignore[no-untyped-def]
        if error is not None and never_reached(error):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def _retry_handlers(max_retries: int) -> list[RetryHandler]:
    # slack_sdk's own handlers: the rate-limit one waits as long as Slack's Retry-After asks,
    # the others back off exponentially. Only transient failures are retried; an
    # {"ok": false} answer such as channel_not_found is final and raises at once.
    return [
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        _DroppedConnectionRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
    ]


# What an operator does about Slack refusing the bot's token.
TOKEN_REFUSED = {
    "invalid_auth": "SLACK_BOT_TOKEN is not a token Slack knows; copy the Bot User OAuth Token again (Install App)",
    "not_authed": "SLACK_BOT_TOKEN was not sent",
    "account_inactive": "the app was uninstalled or its bot deactivated; reinstall it and copy the new token",
    "token_revoked": "SLACK_BOT_TOKEN was revoked; reinstall the app and copy the new token",
    "token_expired": "SLACK_BOT_TOKEN has expired; turn token rotation off or copy a fresh token",
}


def refusal(response: Any) -> str:
    """Slack's `{"ok": false}` answer in words: the error code, with the fix for a bad token and
    the scope for a missing one."""
    code = str(response.get("error", "unknown_error"))
    if code in TOKEN_REFUSED:
        return f"{code}: {TOKEN_REFUSED[code]}"
    if code == "missing_scope" and response.get("needed"):
        return f"missing_scope: the app needs {response.get('needed')}; add it (manifest.yml) and reinstall the app"
    return code


def _cause(error: BaseException) -> BaseException:
    return error.reason if isinstance(error, URLError) and isinstance(error.reason, BaseException) else error


def never_reached(error: BaseException) -> bool:
    """True when the call cannot have reached Slack (so nothing was posted)."""
    return isinstance(_cause(error), ConnectionRefusedError | socket.gaierror)


def unreachable(error: BaseException, base_url: str, timeout: float | None = None) -> str:
    """Why a call got no answer from Slack, in words an operator can act on."""
    cause = _cause(error)
    host = urlsplit(base_url).netloc or base_url
    if isinstance(cause, ConnectionRefusedError):
        return f"connection refused by {host}"
    if isinstance(cause, socket.gaierror):
        return f"DNS lookup failed for {urlsplit(base_url).hostname or host}"
    if isinstance(cause, TimeoutError):
        waited = f" within {timeout:g} s" if timeout else ""
        return f"no answer from {host}{waited} (timed out)"
    if isinstance(cause, ssl.SSLError):
        return f"TLS error talking to {host}: {getattr(cause, 'reason', None) or cause}"
    if isinstance(cause, ConnectionError):
        return f"connection to {host} dropped ({type(cause).__name__})"
    detail = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__} talking to {host}" + (f": {detail}" if detail else "")


def _with_trailing_slash(base_url: str) -> str:
    # WebClient urljoins the method name onto base_url: without the slash, "/api" would be dropped.
    return base_url if base_url.endswith("/") else base_url + "/"
