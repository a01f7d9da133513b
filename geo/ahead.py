"""Work ahead in a thread: the next item made while the caller works on this one (``ahead``).

Examples
--------
>>> list(ahead(iter(range(3)), name="count"))
[0, 1, 2]
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

__all__ = ["ahead"]

_T = TypeVar("_T")


def ahead(items: Iterator[_T], *, name: str) -> Generator[_T, None, None]:
    """The items of ``items``, each next one made in a thread (named ``name``) while the caller uses this one.

    For a producer whose work waits on something else than Python (the database, a C library that lets go of
    the interpreter lock) or that the caller's own waits leave room for: the two then share the machine's
    cores instead of taking turns. At most one item waits (memory: the one in use, the one waiting and the one
    being made). An error in ``items`` is raised in the caller, at the item it would have been; when the caller
    stops early (an error of its own, or ``close``), the thread stops after the item it is making.
    """
    handoff: queue.Queue[_T | _Raised | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand(item: _T | _Raised | None) -> bool:
        """Put ``item`` in the queue unless the caller has stopped; whether it was put."""
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not hand(item):
                    return
            hand(None)  # the end
        except BaseException as exc:  # handed to the caller, raised there
            hand(_Raised(exc))

    worker = threading.Thread(target=make, name=name, daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is None:
                return
            if isinstance(item, _Raised):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()


class _Raised:
    """An error of the producer, handed over (an item may itself be an exception object)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
