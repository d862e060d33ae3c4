"""`/health/` reports each dependency with its latency and 503s when one is down;
`/health/worker/` fails when no worker consumed beat's heartbeat lately."""

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from panel.celery import app
from panel.tasks import worker_heartbeat_task

CLOSED_PORT_REDIS = "redis://:hunter2-secret@127.0.0.1:1/0"


@pytest.fixture
def broker_down() -> Iterator[None]:
    original = app.conf.broker_write_url
    app.conf.broker_write_url = CLOSED_PORT_REDIS
    yield
    app.conf.broker_write_url = original


def _health(client: Client, name: str = "health") -> tuple[int, dict[str, object]]:
    response = client.get(reverse(name))
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, json.loads(response.content)


def test_health_reports_every_dependency_with_its_latency(client: Client, db: None) -> None:
    status, body = _health(client)

    assert status == 200
    assert body["status"] == "ok"
    for part in ("database", "broker", "cache"):
        assert body[part]["ok"] is True, body
        assert body[part]["latency_ms"] >= 0


def test_health_answers_503_naming_the_broker_without_its_url(
    client: Client, db: None, broker_down: None
) -> None:
    status, body = _health(client)

    assert status == 503
    assert body["status"] == "error"
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True
    assert "hunter2" not in json.dumps(body)
    assert "127.0.0.1:1" not in json.dumps(body)


def test_health_answers_503_when_the_cache_is_down(client: Client, db: None) -> None:
    down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_PORT_REDIS,
        }
    }
    with override_settings(CACHES=down):
        status, body = _health(client)

    assert status == 503
    assert body["cache"]["ok"] is False
    assert "hunter2" not in json.dumps(body)


def test_health_is_not_redirected_to_https_for_a_load_balancer(client: Client, db: None) -> None:
    with override_settings(SECURE_SSL_REDIRECT=True):
        assert client.get(reverse("health")).status_code == 200
        assert client.get(reverse("login")).status_code == 301


def test_worker_health_fails_until_a_worker_consumes_the_heartbeat(client: Client) -> None:
    status, body = _health(client, "health_worker")
    assert status == 503
    assert body["worker"]["last_heartbeat_at"] is None

    worker_heartbeat_task.apply()

    status, body = _health(client, "health_worker")
    assert status == 200
    assert body["worker"]["age_seconds"] == 0


@override_settings(PANEL_WORKER_HEARTBEAT_MAX_AGE=300)
def test_worker_health_fails_when_the_last_heartbeat_is_too_old(client: Client) -> None:
    worker_heartbeat_task.apply()

    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        status, body = _health(client, "health_worker")

    assert status == 503
    assert body["worker"]["ok"] is False


def test_a_dead_worker_does_not_take_the_web_out_of_the_load_balancer(
    client: Client, db: None
) -> None:
    status, body = _health(client)

    assert status == 200
    assert body["worker"]["ok"] is False
