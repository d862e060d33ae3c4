"""The v2 protocol's status words (docs/protocol.md), one enum per kind of request, each with its
open and final sets and the spellings providers answer with. Stored values and the API keep the
protocol's English; pages translate them (orders.models.STATUS_NAMES).

Here, in providers, because the upstream client reads them first; orders stores them."""

from django.db import models
from django.utils.translation import pgettext_lazy

# How providers spell the protocol's words, keyed by the word with case and separators removed
# (providers.client.parsing.squash: "CANCELLED", "in_progress", "Complete"): the protocol's own
# spelling of each.
PROTOCOL_SPELLINGS = {
    "pending": "Pending",
    "processing": "Processing",
    "inprogress": "In progress",
    "completed": "Completed",
    "complete": "Completed",
    "partial": "Partial",
    "canceled": "Canceled",
    "cancelled": "Canceled",
    "rejected": "Rejected",
}


class ProtocolStatus(models.TextChoices):
    """What every status enum below answers (it has no members of its own)."""

    @classmethod
    def finals(cls) -> frozenset[str]:
        """The statuses a row never leaves."""
        return _FINALS[cls.__name__]

    @classmethod
    def opens(cls) -> tuple[str, ...]:
        """The statuses the provider may still change, in the protocol's order (the order the
        partial indexes on open rows list them in)."""
        return tuple(value for value in cls.values if value not in cls.finals())

    @classmethod
    def read(cls, answer: str) -> str | None:
        """The status a provider's answer names, in any case and with the aliases some providers
        use beyond the protocol; None when it names none of this kind's statuses."""
        return _READINGS[cls.__name__].get(answer.strip().lower())


class OrderStatus(ProtocolStatus):
    PENDING = "Pending", pgettext_lazy("status", "Pending")
    PROCESSING = "Processing", pgettext_lazy("status", "Processing")
    IN_PROGRESS = "In progress", pgettext_lazy("status", "In progress")
    COMPLETED = "Completed", pgettext_lazy("status", "Completed")
    PARTIAL = "Partial", pgettext_lazy("status", "Partial")
    CANCELED = "Canceled", pgettext_lazy("status", "Canceled")


class RefillStatus(ProtocolStatus):
    PENDING = "Pending", pgettext_lazy("status", "Pending")
    IN_PROGRESS = "In progress", pgettext_lazy("status", "In progress")
    COMPLETED = "Completed", pgettext_lazy("status", "Completed")
    REJECTED = "Rejected", pgettext_lazy("status", "Rejected")


class ProductOrderStatus(ProtocolStatus):
    PENDING = "Pending", pgettext_lazy("status", "Pending")
    IN_PROGRESS = "In progress", pgettext_lazy("status", "In progress")
    COMPLETED = "Completed", pgettext_lazy("status", "Completed")
    PARTIAL = "Partial", pgettext_lazy("status", "Partial")
    CANCELED = "Canceled", pgettext_lazy("status", "Canceled")


_FINALS: dict[str, frozenset[str]] = {
    OrderStatus.__name__: frozenset(
        {OrderStatus.COMPLETED, OrderStatus.PARTIAL, OrderStatus.CANCELED}
    ),
    RefillStatus.__name__: frozenset({RefillStatus.COMPLETED, RefillStatus.REJECTED}),
    ProductOrderStatus.__name__: frozenset(
        {ProductOrderStatus.COMPLETED, ProductOrderStatus.PARTIAL, ProductOrderStatus.CANCELED}
    ),
}

# Statuses some providers send beyond the protocol's (subscriptions, refunds), read as the
# nearest protocol status. Anything else unknown is handed to a person after a few polls.
_ALIASES: dict[str, dict[str, str]] = {
    OrderStatus.__name__: {
        "active": OrderStatus.IN_PROGRESS,
        "paused": OrderStatus.IN_PROGRESS,
        "expired": OrderStatus.COMPLETED,
        "refunded": OrderStatus.CANCELED,
        "refund": OrderStatus.CANCELED,
    },
    RefillStatus.__name__: {},
    ProductOrderStatus.__name__: {
        "processing": ProductOrderStatus.IN_PROGRESS,
        "refunded": ProductOrderStatus.CANCELED,
        "refund": ProductOrderStatus.CANCELED,
        "cancelled": ProductOrderStatus.CANCELED,
    },
}

# Built once: a poll reads a hundred thousand answers, and rebuilding the choices (and this
# map) per answer was most of the time spent comparing them.
_READINGS: dict[str, dict[str, str]] = {
    enum.__name__: {**{value.lower(): value for value in enum.values}, **_ALIASES[enum.__name__]}
    for enum in (OrderStatus, RefillStatus, ProductOrderStatus)
}
