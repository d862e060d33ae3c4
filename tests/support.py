"""Small helpers shared by test modules."""

from typing import Any

import httpx
from django.db.models import Max, Model

from accounts.form_tokens import FIELD, form_token_new
from orders.lifecycle import By, Delivery, Finish, Kind, finish
from sandbox import SandboxServer


def sandbox_control(server: SandboxServer, name: str, **body: Any) -> Any:
    """Steer the sandbox through its /_sandbox/ endpoints (reprice, remove, force, stats, …)."""
    response = httpx.post(
        server.control_url(name), json={"key": server.config.key, **body}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def sandbox_stats(server: SandboxServer) -> dict[str, Any]:
    return sandbox_control(server, "stats")


class FakeClock:
    """A clock for SandboxConfig(clock=...): upstream orders move only when a test moves it."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def with_form_token(fields: dict[str, Any]) -> dict[str, Any]:
    """Form fields as a rendered form sends them: with a fresh one-time form token."""
    return {**fields, FIELD: form_token_new()}


def unused_pk(model: type[Model]) -> int:
    """An id no row of `model` has nor will get during the test: a literal like 77 or 999999
    collides with real rows on a database whose sequences have moved on."""
    highest = model.objects.aggregate(highest=Max("pk"))["highest"] or 0
    return int(highest) + 1_000_000


def order_finalize(
    *, order_id: int, status: str, actor: str, remains: int | None = None
) -> Model | None:
    """Finish an open order as the poller or an admin would, through the lifecycle's `finish`;
    None when it was already final."""
    end = Finish(status=status, delivery=Delivery(remains=remains))
    return finish(Kind.ORDER, order_id, end, actor=By(actor))
