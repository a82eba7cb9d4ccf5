"""What benchmarks share: a fresh migrated database and the local Slack server in its own process."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Self

from tests.databases import migrate, scratch_schema


@contextmanager
def fresh_database(url: str | None, folder: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file in `folder`, or a new schema in PostgreSQL `url`."""
    if url is None or url.startswith("sqlite"):
        path = folder / "pulse.sqlite3"
        url = url or f"sqlite:///{path}"
        try:
            migrate(url)
            yield url
        finally:
            # A year of answers is gigabytes: gone as soon as the benchmark is done with it.
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with scratch_schema(url, "pulse_bench") as scoped:
        migrate(scoped)
        yield scoped


class SlackProcess:
    """The local Slack-compatible server (tests/slack_server.py) in a child process.

    A process of its own keeps its work off the load generator's interpreter lock, so measured
    latencies are the app's, not the benchmark's.
    """

    def __init__(self, bot_token: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, bot_token), daemon=True)
        self._process.start()
        self.url: str = self._pipe.recv()

    def counts(self) -> dict[str, int]:
        """Calls received so far, by Web API method (and `response_url` for replies)."""
        self._pipe.send("counts")
        answer: dict[str, int] = self._pipe.recv()
        return answer

    def response_url(self) -> str:
        return self.url.removesuffix("/api/") + "/response/bench"

    def stop(self) -> None:
        if self._process.is_alive():
            self._pipe.send("stop")
            self._process.join(10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _serve(pipe: Connection, bot_token: str) -> None:
    from collections import Counter

    from tests.slack_server import FakeSlack

    seen: Counter[str] = Counter()
    with FakeSlack(bot_token=bot_token) as slack:
        pipe.send(slack.url)
        while (command := pipe.recv()) != "stop":
            if command == "counts":
                with slack._changed:
                    seen.update(call.method for call in slack.calls)
                    # Calls are only counted here; dropping them keeps memory flat.
                    slack.calls.clear()
                pipe.send(dict(seen))
