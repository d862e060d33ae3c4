"""Throttle and lockout counters: one round trip to Redis, a window that never moves."""

from typing import Any

import pytest
from django.core.cache import cache, caches
from redis.connection import AbstractConnection

from core.counters import cache_count, cache_take


@pytest.fixture
def redis_commands(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The commands sent to Redis from now on, as written on the wire."""
    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    def counting(self: AbstractConnection, command: object, check_health: bool = True) -> None:
        sent.append(command if isinstance(command, bytes) else b"".join(command))  # type: ignore[arg-type]
        original(self, command, check_health)  # type: ignore[arg-type]

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent


def test_each_hit_is_one_round_trip_and_the_window_starts_once(
    redis_commands: list[bytes],
) -> None:
    cache_count("warm-up", timeout=10)  # the script may need loading into this Redis first
    redis_commands.clear()

    counts = [cache_count("hits:a", timeout=100) for _ in range(3)]
    later = cache_count("hits:a", timeout=5)  # a later hit never moves the window's end

    assert counts == [1, 2, 3] and later == 4
    assert len(redis_commands) == 4 and all(b"EVALSHA" in c for c in redis_commands)
    assert cache.get("hits:a") == 4  # readable as a plain cache value (login lockouts read it)
    backend = caches["default"]
    client = backend._cache.get_client(write=True)  # type: ignore[attr-defined]
    assert 90 < client.ttl(backend.make_and_validate_key("hits:a")) <= 100


def test_a_flushed_redis_gets_the_script_again() -> None:
    assert cache_count("hits:c", timeout=10) == 1
    backend = caches["default"]
    backend._cache.get_client(write=True).script_flush()  # type: ignore[attr-defined]

    assert cache_count("hits:c", timeout=10) == 2


def test_counts_without_redis_too(settings: Any) -> None:
    settings.CACHES = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    caches["default"].clear()

    assert [cache_count("hits:b", timeout=60) for _ in range(3)] == [1, 2, 3]


def test_take_adds_a_block_while_the_window_has_room_then_one(
    redis_commands: list[bytes],
) -> None:
    cache_take("warm-up", timeout=10, block=5, limit=100)
    redis_commands.clear()

    # a block at a time while count + block stays within the limit…
    taken = [cache_take("hits:t", timeout=100, block=5, limit=12) for _ in range(2)]
    # …then one at a time, past the limit too (the caller refuses those)
    near = [cache_take("hits:t", timeout=100, block=5, limit=12) for _ in range(4)]

    assert taken == [(5, 5), (10, 5)] and near == [(11, 1), (12, 1), (13, 1), (14, 1)]
    assert len(redis_commands) == 6 and all(b"EVALSHA" in c for c in redis_commands)
    backend = caches["default"]
    client = backend._cache.get_client(write=True)  # type: ignore[attr-defined]
    assert 90 < client.ttl(backend.make_and_validate_key("hits:t")) <= 100


def test_take_counts_one_without_redis(settings: Any) -> None:
    settings.CACHES = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    caches["default"].clear()

    assert [cache_take("hits:u", timeout=60, block=5, limit=100) for _ in range(2)] == [
        (1, 1),
        (2, 1),
    ]
