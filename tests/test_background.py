"""Work after the ack: done in the background, giving way while requests are being served."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from freezegun import freeze_time

from bot.slack.background import Background, Traffic


def busy_work(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_work_runs_and_a_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    done = threading.Event()

    def fail() -> None:
        raise RuntimeError("boom")

    background = Background(ThreadPoolExecutor(max_workers=1))
    with caplog.at_level(logging.ERROR, logger="bot.slack.background"):
        background.submit("failing", fail)
        background.submit("next", done.set)
        assert done.wait(5)
    assert "slack.background_failed work=failing" in caplog.text


def test_while_requests_are_served_jobs_pause_and_resume_when_they_end() -> None:
    traffic = Traffic()
    background = Background(ThreadPoolExecutor(max_workers=2), traffic=traffic, patience=1000)
    finished: list[str] = []
    with traffic.request():
        background.submit("first", lambda: (busy_work(0.01), finished.append("first")))
        background.submit("second", lambda: finished.append("second"))
        time.sleep(0.3)
        assert finished == ["first"]  # the second waits while the request is served
    deadline = time.monotonic() + 5
    while len(finished) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert finished == ["first", "second"]


def test_when_quiet_jobs_run_side_by_side() -> None:
    started = threading.Barrier(3, timeout=5)
    background = Background(ThreadPoolExecutor(max_workers=2), traffic=Traffic())
    background.submit("a", started.wait)
    background.submit("b", started.wait)
    started.wait()  # both jobs are running at once, or this times out


def test_past_the_backlog_limit_work_runs_in_the_callers_thread() -> None:
    release = threading.Event()
    background = Background(ThreadPoolExecutor(max_workers=1), traffic=Traffic(), max_backlog=1)
    threads: list[str] = []
    background.submit("blocker", lambda: release.wait(5))
    time.sleep(0.1)  # the blocker has started: nothing waits
    background.submit("queued", lambda: threads.append(threading.current_thread().name))
    background.submit("overflow", lambda: threads.append(threading.current_thread().name))
    assert threads == [threading.current_thread().name]
    release.set()


def test_pauses_run_on_real_time_under_a_frozen_test_clock() -> None:
    traffic = Traffic()
    background = Background(ThreadPoolExecutor(max_workers=1), traffic=traffic, patience=1000)
    done = threading.Event()
    with freeze_time("2026-11-24 10:00"):
        with traffic.request():
            background.submit("first", lambda: busy_work(0.01))
            background.submit("second", done.set)
        assert done.wait(5)  # quiet comes on the real clock, though the test clock stands still


def test_under_unbroken_traffic_work_waits_no_longer_than_max_wait() -> None:
    traffic = Traffic()
    background = Background(ThreadPoolExecutor(max_workers=2), traffic=traffic, patience=1000, max_wait=0.2)
    done = threading.Event()
    with traffic.request():  # requests never stop: without the bound, the second job would wait on
        background.submit("first", lambda: busy_work(0.01))
        background.submit("second", done.set)
        assert done.wait(5)
        assert traffic.busy
