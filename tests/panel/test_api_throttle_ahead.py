"""A key's API counter counted ahead (panel.api.throttle): a process takes a hundredth of the
limit from Redis at once, and no window ever admits more than its limit, however the requests
fall on the processes."""

import random

import pytest
from django.core.cache import cache

from panel.api import throttle
from panel.api.throttle import _Ahead, hit


@pytest.fixture(autouse=True)
def fresh_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    cache.clear()
    monkeypatch.setattr(throttle, "_ahead", _Ahead())


def _counter(ident: str, period: int = 60) -> int:
    key, _ = throttle._window_key("key", ident, period)
    return int(cache.get(key) or 0)


def test_a_process_goes_to_redis_once_per_hundredth_of_the_limit() -> None:
    # given a limit of 1,000 a minute: blocks of 10
    answers = [hit("key", "k1", "1000/min", ahead=True) for _ in range(10)]
    # then ten requests took one block, and the eleventh the next
    assert answers == [None] * 10 and _counter("k1") == 10
    assert hit("key", "k1", "1000/min", ahead=True) is None and _counter("k1") == 20


def test_small_limits_and_failed_keys_count_one_by_one() -> None:
    assert [hit("key", "k2", "150/min", ahead=True) for _ in range(3)] == [None] * 3
    assert _counter("k2") == 3
    assert [hit("badkey", "1.2.3.4", "1000/min") for _ in range(3)] == [None] * 3
    key, _ = throttle._window_key("badkey", "1.2.3.4", 60)
    assert cache.get(key) == 3


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_processes_sharing_a_key_never_admit_more_than_the_limit(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    # given three processes, each with what it took ahead, and requests falling on them at
    # random, one of them going quiet halfway
    processes = [_Ahead() for _ in range(3)]
    chooser = random.Random(seed)
    admitted = 0
    for attempt in range(1500):
        live = processes if attempt < 600 else processes[:2]
        monkeypatch.setattr(throttle, "_ahead", chooser.choice(live))
        admitted += hit("key", "k3", "1000/min", ahead=True) is None

    # then never more than the limit, and short of it by at most what the quiet one holds
    assert 1000 - 9 <= admitted <= 1000
    assert _counter("k3") > 1000  # the refused ones were counted too, one by one


def test_another_limit_does_not_spend_what_was_taken_under_the_old_one() -> None:
    hit("key", "k4", "1000/min", ahead=True)  # took 10, holds 9
    # an operator lowered the limit: every request counts against the new one at once
    answers = [hit("key", "k4", "12/min", ahead=True) for _ in range(3)]
    assert answers == [None, None, answers[2]] and answers[2] is not None
    # and a higher one takes its own blocks, of twenty at most
    hit("key", "k5", "1000/min", ahead=True)
    assert hit("key", "k5", "2000/min", ahead=True) is None and _counter("k5") == 30
    assert hit("key", "k6", "100000/min", ahead=True) is None and _counter("k6") == 20
