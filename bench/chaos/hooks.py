"""Resellers' status webhooks under chaos: two resellers subscribe a loopback receiver (this
process) through the API's `webhook_subscribe`; the receiver records every delivery (its event
id, type, data and whether its signature is right) and, like a flaky endpoint, answers one in
ten first deliveries of an event with a 500 so the panel retries it. The check
(checks/webhooks.py) counts each event once per id, as a receiver that deduplicates does."""

import hashlib
import hmac
import json
import random
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from bench.chaos.load import Account
from tests.e2e.processes import free_port

SUBSCRIBED_EVENTS = "order.status_changed,order.finished"
FLAKY_RATE = 0.1  # first deliveries of an event answered 500


@dataclass
class Delivery:
    event_id: str
    type: str
    data: dict
    signed: bool  # the signature checks out with the endpoint's secret
    user: str


@dataclass
class Receiver:
    """The resellers' endpoint: one loopback HTTP server, a path per reseller."""

    port: int = field(default_factory=free_port)
    secrets: dict[str, str] = field(default_factory=dict)  # reseller username -> secret
    deliveries: list[Delivery] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    rng: random.Random = field(default_factory=lambda: random.Random(25))

    def url(self, username: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{username}"

    def start(self) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.receive(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True).start()
        return server

    def receive(self, path: str, headers: dict[str, str], body: bytes) -> int:
        user = path.rstrip("/").rsplit("/", 1)[-1]
        try:
            event = json.loads(body)
        except ValueError:
            return 400
        signed = _signed(self.secrets.get(user, ""), body, headers.get("X-Panel-Signature", ""))
        with self.lock:
            first = all(d.event_id != event.get("id") for d in self.deliveries)
            if first and self.rng.random() < FLAKY_RATE:
                self.refused += 1
                return 500
            self.deliveries.append(
                Delivery(
                    event_id=str(event.get("id")),
                    type=str(event.get("type")),
                    data=event.get("data") or {},
                    signed=signed,
                    user=user,
                )
            )
        return 200


def _signed(secret: str, body: bytes, header: str) -> bool:
    """The protocol's check (docs/protocol.md, "Checking the signature"), the clock left out:
    a delivery retried after a kill is signed anew."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        signed = parts["t"].encode() + b"." + body
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return bool(secret) and hmac.compare_digest(expected, parts.get("v1", ""))


def subscribe(api_url: str, receiver: Receiver, resellers: list[Account]) -> None:
    """Each reseller registers its endpoint through the API, as its script would."""
    for account in resellers:
        answer = httpx.post(
            api_url,
            data={
                "key": account.key,
                "action": "webhook_subscribe",
                "url": receiver.url(account.username),
                "events": SUBSCRIBED_EVENTS,
            },
            timeout=30,
        ).json()
        if "secret" not in answer:
            raise RuntimeError(f"webhook_subscribe for {account.username}: {answer}")
        receiver.secrets[account.username] = answer["secret"]
