"""The collector's settings while poll rounds run (orders/services/polling/engine.py): rounds of
one process that overlap in threads restore them once, when the last one ends."""

import gc
import sys
import threading
from collections.abc import Iterator

import pytest

from orders.services.polling.engine import ROUND_GC_THRESHOLD, _older_objects_frozen

Thresholds = tuple[int, int, int]


@pytest.fixture
def collector() -> Iterator[Thresholds]:
    """The thresholds before the test, put back after it whatever it did."""
    thresholds = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    yield thresholds
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def _state() -> tuple[int, bool]:
    return gc.get_threshold()[0], gc.get_freeze_count() > 0


def _round(
    seen: dict[str, tuple[int, bool]],
    name: str,
    *,
    after: threading.Event | None,
    entered: threading.Event,
    leave_after: threading.Event | None,
    left: threading.Event | None,
) -> None:
    if after is not None:
        after.wait(5)
    with _older_objects_frozen():
        seen[name] = _state()
        entered.set()
        if leave_after is not None:
            leave_after.wait(5)
    if left is not None:  # the first one out: the other round still runs
        seen["one out"] = _state()
        left.set()


@pytest.mark.parametrize("first_out", ["A", "B"])
def test_two_overlapping_rounds_keep_the_collector_set_until_the_last_one_ends(
    collector: Thresholds, first_out: str
) -> None:
    # given: round A starts, then round B while A runs; one of them ends first
    a_in, b_in, one_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, tuple[int, bool]] = {}
    a_first = first_out == "A"
    rounds = {
        "A": {"after": None, "entered": a_in, "leave_after": b_in if a_first else one_out},
        "B": {"after": a_in, "entered": b_in, "leave_after": one_out if a_first else None},
    }
    threads = [
        threading.Thread(
            target=_round,
            args=(seen, name),
            kwargs={**events, "left": one_out if name == first_out else None},
        )
        for name, events in rounds.items()
    ]

    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    # then: set while either runs, as they were once both ended
    raised = (max(collector[0], ROUND_GC_THRESHOLD), True)
    assert seen == {"A": raised, "B": raised, "one out": raised}
    assert gc.get_threshold() == collector and gc.get_freeze_count() == 0


def test_overlapping_rounds_keep_a_freeze_they_did_not_make(collector: Thresholds) -> None:
    gc.freeze()
    inside = threading.Barrier(2, timeout=5)

    def round_() -> None:
        with _older_objects_frozen():
            inside.wait()

    threads = [threading.Thread(target=round_) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert gc.get_freeze_count() > 0  # the boot-time freeze's owner thaws it
    assert gc.get_threshold() == collector


def test_two_threads_starting_and_ending_rounds_at_random_leave_the_collector_as_it_was(
    collector: Thresholds,
) -> None:
    # given: thread switches as often as the interpreter allows, so that the two threads'
    # starts and ends interleave every way
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    start = threading.Barrier(2, timeout=5)

    def rounds() -> None:
        start.wait()
        for _ in range(2000):
            with _older_objects_frozen():
                pass

    try:
        # when
        threads = [threading.Thread(target=rounds) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        sys.setswitchinterval(interval)

    # then
    assert gc.get_threshold() == collector and gc.get_freeze_count() == 0
