"""Work that follows an acknowledgement, and the requests it makes way for.

Slack waits at most three seconds for an ack, and a click's real work (recording the answer,
updating the message) costs many times what its ack does. Done beside the acks on a small
machine, it would take most of the processor from them during a burst of clicks. So it runs on
a few threads of its own. While no request is being served they work freely. While requests
are, jobs take turns, and each turn is followed by a pause of `patience` times the processor
time the job used, ended early when the requests are done. The work thus keeps a small steady
share under any load and trails a burst, catching up as soon as it ends; waiting on Slack or
the database uses no processor time, so slow I/O is never paused for.

The backlog is bounded: past `max_backlog` waiting jobs, a job runs at once in the listener's
own thread, as if there were no pool, so acks slow down instead of memory filling up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager

log = logging.getLogger(__name__)

THREADS = 4  # mostly waiting on the database and on Slack
PATIENCE = 30.0  # while requests are served, work uses at most 1/31 of one processor
MAX_BACKLOG = 2000


class Traffic:
    """How many requests this process is serving right now."""

    def __init__(self) -> None:
        self._serving = 0
        self._changed = threading.Condition()

    @contextmanager
    def request(self) -> Iterator[None]:
        with self._changed:
            self._serving += 1
        try:
            yield
        finally:
            with self._changed:
                self._serving -= 1
                if not self._serving:
                    self._changed.notify_all()

    @property
    def busy(self) -> bool:
        return self._serving > 0

    def wait_until_quiet(self, timeout: float) -> None:
        with self._changed:
            self._changed.wait_for(lambda: not self._serving, timeout)


class Background:
    def __init__(
        self,
        executor: Executor | None = None,
        *,
        traffic: Traffic | None = None,
        patience: float = PATIENCE,
        max_backlog: int = MAX_BACKLOG,
    ) -> None:
        self.executor = executor or ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="after-ack")
        self.traffic = traffic or Traffic()
        self.patience = patience
        self.max_backlog = max_backlog
        self._turn = threading.Lock()
        self._lock = threading.Lock()
        self._backlog = 0

    def submit(self, name: str, work: Callable[[], None]) -> None:
        """Run `work` later; a failure is logged, as Bolt logs a failing listener."""
        with self._lock:
            full = self._backlog >= self.max_backlog
            if not full:
                self._backlog += 1
        if full:
            self._run(name, work)
            return

        def run() -> None:
            with self._lock:
                self._backlog -= 1
            if not self.traffic.busy:
                self._run(name, work)
                return
            with self._turn:
                used = self._run(name, work)
                self.traffic.wait_until_quiet(self.patience * used)

        self.executor.submit(run)

    def _run(self, name: str, work: Callable[[], None]) -> float:
        """Do the work; return the processor time it took."""
        started = time.thread_time()
        try:
            work()
        except Exception:
            log.exception("slack.background_failed work=%s", name)
        return time.thread_time() - started
