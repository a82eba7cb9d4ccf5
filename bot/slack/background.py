"""Work that follows an acknowledgement, and the requests it makes way for.

Slack waits at most three seconds for an ack, and a click's real work (recording the answer,
updating the message) costs many times what its ack does. Done beside the acks on a small
machine, it would take most of the processor from them during a burst of clicks. So it runs on
a few threads of its own. While no request is being served they work freely. While requests
are, jobs take turns, and each turn is followed by a pause of `patience` times the processor
time the job used, ended early once no request has come for a moment. The work thus keeps a
small steady share under any load and trails a burst, catching up as soon as it ends; waiting
on Slack or the database uses no processor time, so slow I/O is never paused for.

Giving way is bounded twice. A job that has waited `max_wait` seconds runs however busy the web
is, so under steady heavy traffic a person still sees their answer within seconds, and acks slow
down a little instead. Past `max_backlog` waiting jobs, a job runs at once in the listener's own
thread, as if there were no pool, so acks slow down instead of memory filling up.

Waiting work lives in memory only. A worker that is stopped (a deploy, a scale-down) finishes it
before it exits: the pool's threads are joined at interpreter exit, and nothing is left to give
way to once the server has stopped taking requests. A worker killed outright loses the clicks it
had acknowledged but not yet recorded; their messages were never updated, so the people who
clicked still see the question unanswered and can answer again.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager

log = logging.getLogger(__name__)


def _clock() -> float:
    """Monotonic seconds that a frozen test clock (freezegun) leaves running: pauses are real."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


THREADS = 4  # mostly waiting on the database and on Slack
PATIENCE = 30.0  # while requests are served, work uses at most 1/31 of one processor
MAX_BACKLOG = 2000
MAX_WAIT = 5.0  # seconds a job gives way at most before it runs regardless
QUIET_AFTER = 0.02  # seconds without a request before the web counts as quiet


class Traffic:
    """Whether this process is serving requests: now, or so recently that more are surely coming.

    A burst has gaps of a fraction of a millisecond between requests; counting those as quiet
    would let work start in them, so quiet means no request for `quiet_after` seconds.
    """

    def __init__(self, quiet_after: float = QUIET_AFTER) -> None:
        self.quiet_after = quiet_after
        self._serving = 0
        self._last_served = -math.inf
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
                self._last_served = _clock()
                if not self._serving:
                    self._changed.notify_all()

    @property
    def busy(self) -> bool:
        return self._serving > 0 or _clock() - self._last_served < self.quiet_after

    def wait_until_quiet(self, timeout: float) -> None:
        """Return once the process is quiet, or after `timeout` seconds."""
        deadline = _clock() + timeout
        with self._changed:
            while (now := _clock()) < deadline:
                if self._serving:
                    self._changed.wait(deadline - now)
                elif (idle := now - self._last_served) < self.quiet_after:
                    self._changed.wait(min(self.quiet_after - idle, deadline - now))
                else:
                    return


class Background:
    def __init__(
        self,
        executor: Executor | None = None,
        *,
        traffic: Traffic | None = None,
        patience: float = PATIENCE,
        max_backlog: int = MAX_BACKLOG,
        max_wait: float = MAX_WAIT,
    ) -> None:
        self.executor = executor or ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="after-ack")
        self.traffic = traffic or Traffic()
        self.patience = patience
        self.max_backlog = max_backlog
        self.max_wait = max_wait
        self._turn = threading.Lock()
        self._resume_at = -math.inf  # while busy, when the next job may start
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

        due = _clock() + self.max_wait  # when this job stops giving way

        def run() -> None:
            with self._lock:
                self._backlog -= 1
            if not self.traffic.busy or not self._turn.acquire(timeout=max(due - _clock(), 0)):
                self._run(name, work)  # quiet, or waited long enough for its turn
                return
            try:
                # The pause the last job earned comes before this one, so a job's own caller
                # (a test waiting on it, say) never waits for it.
                self.traffic.wait_until_quiet(min(self._resume_at, due) - _clock())
                used = self._run(name, work)
                self._resume_at = _clock() + self.patience * used
            finally:
                self._turn.release()

        self.executor.submit(run)

    def _run(self, name: str, work: Callable[[], None]) -> float:
        """Do the work; return the processor time it took."""
        started = time.thread_time()
        try:
            work()
        except Exception:
            log.exception("slack.background_failed work=%s", name)
        return time.thread_time() - started
