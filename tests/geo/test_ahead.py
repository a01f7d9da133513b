"""``geo.ahead.ahead``: items in order, made in another thread; errors raised in the caller; an early stop ends
the thread even when the producer has just finished (the case that hung the demo's first helper)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from geo.ahead import ahead


def test_items_come_in_order_made_in_a_thread_of_their_own() -> None:
    made_in = []

    def items() -> Iterator[int]:
        for i in range(5):
            made_in.append(threading.current_thread().name)
            yield i

    assert list(ahead(items(), name="maker")) == [0, 1, 2, 3, 4]
    assert set(made_in) == {"maker"}


def test_an_error_of_the_producer_is_raised_in_the_caller_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise ValueError("bad city")

    got = []
    with pytest.raises(ValueError, match="bad city"):
        for i in ahead(items(), name="maker"):
            got.append(i)
    assert got == [1]


def test_a_caller_that_stops_early_ends_the_thread_even_when_the_items_are_done() -> None:
    # two items: the first taken, the second waiting in the queue, the producer finished and handing over its
    # end mark to a full queue when the caller stops: the thread must give up, not wait for room for ever
    done = threading.Event()

    def items() -> Iterator[int]:
        yield 1
        yield 2
        done.set()

    gen = ahead(items(), name="maker")
    assert next(gen) == 1
    assert done.wait(5)
    closer = threading.Thread(target=gen.close)
    closer.start()
    closer.join(5)
    assert not closer.is_alive()
    assert not any(t.name == "maker" for t in threading.enumerate())
