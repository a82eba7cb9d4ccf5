"""How far long work run by hand has got: shown on a terminal, silent anywhere else.

The services report what they have done (`report`); only a command run by hand on a terminal
listens (`reporting`), so the scheduler, the web process and scripts that read the output see
nothing of it. Reports come from the thread that runs the work, so a context variable carries
the listener.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Listener = Callable[[str, int, "int | None"], None]

_listener: ContextVar[Listener | None] = ContextVar("progress_listener", default=None)


def report(what: str, done: int, total: int | None = None) -> None:
    """`done` of `total` (None: not known ahead) `what` so far, for whoever is listening."""
    listener = _listener.get()
    if listener is not None:
        listener(what, done, total)


@contextmanager
def reporting(listener: Listener) -> Iterator[None]:
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
