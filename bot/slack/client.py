"""The one place the app builds a Slack WebClient, so every call gets the same retry policy."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

DEFAULT_BASE_URL = "https://slack.com/api/"


def make_web_client(
    token: str | None,
    base_url: str = DEFAULT_BASE_URL,
    *,
    timeout: int = 30,
    max_retries: int = 4,
) -> WebClient:
    return WebClient(
        token=token,
        base_url=_with_trailing_slash(base_url),
        timeout=timeout,
        retry_handlers=_retry_handlers(max_retries),
    )


def without_unsafe_retries(client: WebClient) -> WebClient:
    """The same client, but a call that fails is not repeated, except after a 429.

    A 5xx, a dropped connection or a timeout can come after Slack has already posted the message,
    so repeating the call could post it twice; the caller decides instead (it looks first). A 429
    is safe to repeat: Slack did nothing with the call.
    """
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[handler for handler in client.retry_handlers if isinstance(handler, RateLimitErrorRetryHandler)],
    )


def _retry_handlers(max_retries: int) -> list[RetryHandler]:
    # slack_sdk's own handlers: the rate-limit one waits as long as Slack's Retry-After asks,
    # the others back off exponentially. Only transient failures are retried; an
    # {"ok": false} answer such as channel_not_found is final and raises at once.
    return [
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
    ]


def _with_trailing_slash(base_url: str) -> str:
    # WebClient urljoins the method name onto base_url: without the slash, "/api" would be dropped.
    return base_url if base_url.endswith("/") else base_url + "/"
