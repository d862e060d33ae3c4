"""Helpers for tests that talk to the sandbox provider over HTTP."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from sandbox import SandboxServer

SANDBOX_KEY = "sandbox-key"


class FakeClock:
    """A clock for SandboxConfig(clock=...): orders progress only when a test moves it."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def sandbox_call(client: httpx.Client, server: SandboxServer, **fields: Any) -> Any:
    """One v2 call as a form POST, the canonical way; returns the decoded JSON
    (JSON numbers with a fraction as Decimal, as the panel reads them)."""
    response = client.post(server.url, data={"key": server.config.key, **fields})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return json.loads(response.text, parse_float=Decimal)


def sandbox_control(client: httpx.Client, server: SandboxServer, name: str, **body: Any) -> Any:
    """One /_sandbox/ call with a JSON body; returns the decoded JSON."""
    response = client.post(server.control_url(name), json={"key": server.config.key, **body})
    assert response.status_code == 200, response.text
    return response.json()
