"""Timing and outcome of every `add` sent upstream, for the dashboard's provider cards.

`provider_client` hands out this client, so whoever forwards orders is metered without
knowing it. Recording never fails the call: after an `add` left, losing its answer to a
bookkeeping error would turn a purchase into an unknown outcome.
"""

import logging
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from django.db import DatabaseError, transaction
from django.utils import timezone

from providers.client import ProviderClient
from providers.errors import (
    ProviderAmbiguous,
    ProviderAuthError,
    ProviderBusy,
    ProviderRejected,
    ProviderUnavailable,
)
from providers.models import ProviderCall

logger = logging.getLogger(__name__)
T = TypeVar("T")
Outcome = ProviderCall.Outcome
_OUTCOMES: tuple[tuple[type[Exception], str], ...] = (
    (ProviderAuthError, Outcome.AUTH),
    (ProviderBusy, Outcome.BUSY),
    (ProviderRejected, Outcome.REJECTED),
    (ProviderAmbiguous, Outcome.UNKNOWN),
    (ProviderUnavailable, Outcome.UNAVAILABLE),
)


def _outcome_of(exc: Exception) -> str:
    for cls, outcome in _OUTCOMES:
        if isinstance(exc, cls):
            return outcome
    return Outcome.ERROR


def provider_call_record(*, provider_id: int, action: str, result: str, duration_ms: int) -> None:
    try:
        with transaction.atomic():
            ProviderCall.objects.create(
                provider_id=provider_id,
                action=action,
                result=result,
                duration_ms=max(duration_ms, 0),
                created_at=timezone.now(),
            )
    except DatabaseError:
        logger.exception("could not record a %s call of provider %s", action, provider_id)


class MeteredClient(ProviderClient):
    """A ProviderClient that records each `add` and `add_product_order` as a ProviderCall."""

    def __init__(self, *, provider_id: int | None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._provider_id = provider_id

    def _metered(self, action: str, call: Callable[[], T]) -> T:
        start = time.perf_counter()
        outcome = Outcome.OK
        try:
            return call()
        except Exception as exc:
            outcome = _outcome_of(exc)
            raise
        finally:
            if self._provider_id is not None:  # a provider being registered is not yet saved
                provider_call_record(
                    provider_id=self._provider_id,
                    action=action,
                    result=outcome,
                    duration_ms=round((time.perf_counter() - start) * 1000),
                )

    def add(self, *, service: str, fields: Mapping[str, str]) -> str:
        return self._metered(
            "add", lambda: super(MeteredClient, self).add(service=service, fields=fields)
        )

    def add_product_order(self, *, product: str, quantity: int, require: str) -> str:
        return self._metered(
            "add_product_order",
            lambda: super(MeteredClient, self).add_product_order(
                product=product, quantity=quantity, require=require
            ),
        )
