"""The one place the app builds a Slack WebClient, so every call gets the same retry policy and
the same kept-alive connections, and says in words why a call never reached Slack."""

from __future__ import annotations

import http.client
import io
import logging
import os
import select
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request

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


# Idle connections kept open per host: as many as calls are in flight at once (a fan-out sends
# eight at a time, a web worker serves eight clicks), a few more for good measure.
IDLE_CONNECTIONS = 16


def make_web_client(
    token: str | TokenSource | None,
    base_url: str = DEFAULT_BASE_URL,
    *,
    timeout: int | None = None,
    max_retries: int = 4,
) -> WebClient:
    """A client with the app's retry policy and kept-alive connections, for a token, or for a
    source of tokens (OAuth mode)."""
    options: dict[str, Any] = {
        "base_url": _with_trailing_slash(base_url),
        "timeout": TIMEOUT if timeout is None else timeout,
        "retry_handlers": _retry_handlers(max_retries),
        "logger": _client_logger(),
    }
    if callable(token):
        return InstalledClient(token, **options)
    return KeepAliveWebClient(token=token, **options)


class KeepAliveWebClient(WebClient):
    """slack_sdk's WebClient, whose calls reuse kept-alive HTTP/1.1 connections.

    slack_sdk sends each call through urllib, which opens a connection (and on https, a TLS
    session) per call and closes it after; in a fan-out that cost more than everything else
    together. Only the last step changes: the request slack_sdk built goes over a connection
    from `pool`, and the answer comes back exactly as urllib gives it (an HTTPError for a status
    of 400 and over; URLError around a failure to send), so slack_sdk's retry handlers and our
    error messages see what they always saw. Through a proxy, calls go through urllib as before.
    """

    def __init__(self, *args: Any, pool: ConnectionPool | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool = pool if pool is not None else ConnectionPool()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if self.proxy is not None or not url.lower().startswith(("http://", "https://")):
            return super()._perform_urllib_http_request_internal(url, req)  # type: ignore[no-any-return]
        status, reason, headers, body = self.pool.request(req, timeout=self.timeout, context=self.ssl)
        if not 200 <= status < 300:
            raise HTTPError(req.full_url, status, reason, headers, io.BytesIO(body))
        # The Content-Type read as urllib reads it, without email.message's parser: a call's
        # answer is read thousands of times in a fan-out.
        content_type, _, parameters = (headers.get("Content-Type") or "").partition(";")
        if content_type.strip().lower() == "application/gzip":
            return {"status": status, "headers": headers, "body": body}
        return {"status": status, "headers": headers, "body": body.decode(_charset(parameters))}


class InstalledClient(KeepAliveWebClient):
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


class ConnectionPool:
    """Kept-alive HTTP connections, each used by one call at a time, shared between threads.

    A connection goes back to the pool once its answer has been read whole and the server means
    to keep it open; any failure closes it. One that has been idle is checked before it is used
    again: a server that closed it meanwhile (Slack closes idle connections) leaves it readable,
    and it is dropped for a new one rather than failing the call."""

    def __init__(self, idle: int = IDLE_CONNECTIONS) -> None:
        self._idle: dict[tuple[str, str], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._keep = idle
        self._pid = os.getpid()

    def request(
        self, req: Request, *, timeout: float, context: ssl.SSLContext | None
    ) -> tuple[int, str, http.client.HTTPMessage, bytes]:
        key = (req.type, req.host)
        connection = self._take(key) or self._open(req, timeout, context)
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        # As urllib sends them: its header names, in title case, with the body's length.
        headers = {name.title(): value for name, value in req.header_items()}
        try:
            try:
                connection.request(req.get_method(), req.selector, req.data, headers)
            except OSError as error:  # urllib's wording: a failure to send is a URLError
                raise URLError(error) from error
            response = connection.getresponse()
            body = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            self._give_back(key, connection)
        return response.status, response.reason, response.headers, body

    def _open(self, req: Request, timeout: float, context: ssl.SSLContext | None) -> http.client.HTTPConnection:
        if req.type == "https":
            return http.client.HTTPSConnection(req.host, timeout=timeout, context=context)
        return http.client.HTTPConnection(req.host, timeout=timeout)

    def _take(self, key: tuple[str, str]) -> http.client.HTTPConnection | None:
        while True:
            with self._lock:
                if self._pid != os.getpid():
                    # A forked process (a web worker) opens its own: a socket shared with the
                    # parent would mix two processes' answers.
                    self._idle, self._pid = {}, os.getpid()
                idle = self._idle.get(key)
                if not idle:
                    return None
                connection = idle.pop()
            if not _closed_by_server(connection):
                return connection
            connection.close()

    def _give_back(self, key: tuple[str, str], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self._keep:
                idle.append(connection)
                return
        connection.close()


def _charset(parameters: str) -> str:
    """The charset of a Content-Type's parameters (`charset=utf-8; …`), UTF-8 when none is named."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip(' "'):
            return value.strip(' "')
    return "utf-8"


def _closed_by_server(connection: http.client.HTTPConnection) -> bool:
    """An idle connection with something to read has been closed by the server (or holds bytes
    no request asked for): either way it cannot carry the next call."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):  # any descriptor number, where select() stops at 1024
            poll = select.poll()
            poll.register(sock, select.POLLIN)
            return bool(poll.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _client_logger() -> logging.Logger:
    """slack_sdk's logger for our clients, with a level of its own: with none set, slack_sdk
    formats every request and answer, blocks and all, for a debug line nobody reads, on each
    call. Debug lines still come when debug logging is on as the client is made."""
    logger = logging.getLogger("slack_sdk.web.base_client")
    if logger.level == logging.NOTSET and not logger.isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.INFO)
    return logger


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
        "logger": client.logger,
        "pool": client.pool if isinstance(client, KeepAliveWebClient) else None,
    }
    if isinstance(client, InstalledClient):
        return InstalledClient(client.tokens, **options)
    return KeepAliveWebClient(token=client.token, **options)


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
