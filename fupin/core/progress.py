"""How far a long piece of work has got, told to whoever is listening (issue 13 §3).

An importer, an export or a semester run calls `report(done, total, stage)` in its loop; when it
runs as a background job (fupin/jobs) the job listens and records the numbers on its row, which
the job page shows as a progress bar. Called outside a job it costs one lookup and does nothing,
so the same code runs from the CLI, the API and the tests unchanged. `total` 0 means "not known
yet" (a file being read). The listener decides how often it writes.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

Listener = Callable[[int, int, str], None]
_listener: ContextVar[Listener | None] = ContextVar("fupin_progress", default=None)


def report(done: int, total: int = 0, stage: str = "") -> None:
    listener = _listener.get()
    if listener is not None:
        listener(done, total, stage)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
