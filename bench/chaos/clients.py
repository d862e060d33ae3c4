"""What the run's clients saw: every answer the panel gave them, kept so the checks can hold
the panel to it afterwards (an order id that exists, an error that changed nothing, a final
status that stays final, a retried `client_ref` that bought once)."""

import threading
from collections import Counter
from dataclasses import dataclass, field

# The outcome of one client action, as the client knows it.
PLACED = "placed"  # the panel answered with an order (or the form led to the order list)
REFUSED = "refused"  # the panel answered with an error: nothing may have changed
UNKNOWN = "unknown"  # no answer (a dropped connection, a 5xx): the client cannot tell


@dataclass
class Attempt:
    """One order a client tried to place: its unique link, how, and what it was told."""

    link: str
    how: str  # api, api-no-ref, web, mass, product
    user: str
    client_ref: str = ""
    outcome: str = UNKNOWN
    order_id: int | None = None
    error: str = ""
    retried: bool = False  # sent again after a dropped connection or a 5xx


@dataclass
class ClientLog:
    attempts: list[Attempt] = field(default_factory=list)
    # Final statuses read back through the API: (kind, order id) -> (status, remains).
    finals_seen: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)
    # Bank transfers and card payments the gateways were told were taken (answered 2xx).
    transfers: dict[str, dict] = field(default_factory=dict)  # bank reference -> body
    card_sessions: dict[str, dict] = field(default_factory=dict)  # session id -> expectation
    disputes: dict[str, str] = field(default_factory=dict)  # dispute id -> session id
    answers: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, attempt: Attempt) -> Attempt:
        with self.lock:
            self.attempts.append(attempt)
        return attempt

    def count(self, answer: str) -> None:
        with self.lock:
            self.answers[answer] += 1

    def saw_final(self, kind: str, order_id: int, status: str, remains: str) -> None:
        with self.lock:
            self.finals_seen.setdefault((kind, order_id), (status, remains))
