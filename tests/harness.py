"""The app under test: served over real HTTP on loopback, talking to the local Slack server.

Bolt acknowledges a request first and finishes the listener in a worker thread; `settle()` waits
for those threads, so a test checks what the person sees only after the work is done.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bot.db import Database
from bot.settings import Settings
from bot.slack.app import Services, build_app, make_services
from bot.slack.web import PulseWeb
from tests.slack_requests import SignedSlack
from tests.slack_server import FakeSlack


LINGER_SECONDS = 10.0


class TrackingExecutor(ThreadPoolExecutor):
    """A thread pool that remembers its work, so tests can wait for listeners to finish."""

    def __init__(self) -> None:
        super().__init__(max_workers=8, thread_name_prefix="listener")
        self._futures: list[Future[Any]] = []
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.append(future)
        return future

    def settle(self, timeout: float = 10.0) -> None:
        # Work a listener hands on after its ack lands here too; wait until nothing new arrives.
        while True:
            with self._lock:
                pending, self._futures = self._futures, []
            if not pending:
                return
            for future in pending:
                future.result(timeout=timeout)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — stdlib signature
        pass


class _ThreadingWSGIServer(WSGIServer):
    """wsgiref's server, one thread a connection, closing connections as HTTP servers do.

    The app may answer before reading a body (413 for one larger than Slack ever sends). Closing
    the socket with that body unread makes the kernel reset the connection, so a client still
    sending it gets a broken pipe instead of the answer. Production servers drain it (gunicorn
    reads an unread body before the next request on the connection; nginx and Apache linger on
    close), and so does this one: it stops writing, then reads and drops what the client still
    sends until the client closes, or for LINGER_SECONDS at most.
    """

    daemon_threads = True

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._handle, args=(request, client_address), daemon=True)
        thread.start()

    def _handle(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        finally:
            self.shutdown_request(request)

    def shutdown_request(self, request: socket.socket) -> None:
        try:
            request.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_SECONDS
            while (left := deadline - time.monotonic()) > 0:
                request.settimeout(left)
                if not request.recv(1 << 16):
                    break  # the client has closed its side: nothing more is coming
        except OSError:
            pass  # reset or timed out: nothing left to read for
        self.close_request(request)


class RunningApp:
    def __init__(self, settings: Settings, db: Database, slack: FakeSlack) -> None:
        self.settings = settings
        self.db = db
        self.slack = slack
        self.executor = TrackingExecutor()
        self.services: Services = make_services(settings, db, background=self.executor)
        app = build_app(self.services, listener_executor=self.executor)
        self.web = PulseWeb(app, db, signing_secret=settings.slack_signing_secret or "")
        self.server = make_server("127.0.0.1", 0, self.web, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.requests = SignedSlack(self.url, settings.slack_signing_secret or "", response_url_factory=slack.response_url)
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def settle(self) -> None:
        self.executor.settle()

    @property
    def key(self) -> bytes:
        return self.services.key


@contextmanager
def running_app(settings: Settings, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    app = RunningApp(settings, db, slack)
    app._thread.start()
    try:
        yield app
    finally:
        app.server.shutdown()
        app.server.server_close()
        app.executor.shutdown(wait=True)
