"""The judgement's writer thread (``judged_write._Writer``): writes in order, errors raised in the caller."""

from __future__ import annotations

import threading

import pytest

from blockline.services.judged_write import _Writer


def test_writes_run_in_order_in_another_thread() -> None:
    done: list[tuple[int, str]] = []
    with _Writer() as writer:
        for i in range(5):
            writer.put(lambda i=i: done.append((i, threading.current_thread().name)))
    assert [i for i, _ in done] == [0, 1, 2, 3, 4]
    assert {name for _, name in done} == {"judgement-writer"}


def test_a_failed_write_is_raised_in_the_caller_and_the_later_ones_are_skipped() -> None:
    done: list[int] = []

    def fail() -> None:
        raise ValueError("COPY failed")

    with pytest.raises(ValueError, match="COPY failed"), _Writer() as writer:
        writer.put(fail)
        writer.put(lambda: done.append(1))
    assert done == []


def test_when_the_caller_fails_what_is_still_queued_is_not_written() -> None:
    gate, done = threading.Event(), []
    with pytest.raises(RuntimeError, match="rules failed"), _Writer() as writer:
        writer.put(gate.wait)  # the thread waits here while two more are queued
        writer.put(lambda: done.append(1))
        writer.put(lambda: done.append(2))
        threading.Timer(0.2, gate.set).start()
        raise RuntimeError("rules failed")
    assert done == []
