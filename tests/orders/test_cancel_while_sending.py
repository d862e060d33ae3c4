"""Defect 5: a cancel that arrives while the order is being sent is recorded and applied once
the add's outcome is known, and the API answers that it was accepted."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.test import Client

from accounts.models import User
from orders.lifecycle import Kind, Resolution
from orders.models import CancelRequest, DispatchState, Order, OrderStatus
from orders.services import (
    Answer,
    cancel_forward,
    dispatch_sweep,
    order_cancel,
    order_forward,
    provider_poll,
    review_resolve,
)
from providers.client import ProviderClient
from providers.errors import ProviderAmbiguous, ProviderUnavailable
from providers.models import Provider
from sandbox import SandboxServer
from tests.support import sandbox_stats


@contextmanager
def cancel_during_add(order: Order, *, then: Exception | None = None) -> Iterator[list[Any]]:
    """Patch `add` so the customer cancels while the request is in flight; `then` is raised
    instead of the real add (the add never landed or its answer was lost)."""
    real_add = ProviderClient.add
    answers: list[Any] = []

    def add(client: ProviderClient, **kwargs: Any) -> str:
        answers.append(order_cancel(user=order.user, order_id=order.pk))
        if then is not None:
            raise then
        return real_add(client, **kwargs)

    with mock.patch.object(ProviderClient, "add", add):
        yield answers


def test_a_cancel_while_sending_is_forwarded_once_the_order_is_sent(
    place: Callable[..., Order],
    sandbox: SandboxServer,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    order = place(has_cancel=True, quantity=1000)

    with cancel_during_add(order) as answers, django_capture_on_commit_callbacks() as queued:
        assert order_forward(order_id=order.pk) == "sent"

    assert answers and answers[0].pk == order.pk  # the cancel was accepted, not refused
    request = CancelRequest.objects.get(order=order)
    assert request.next_dispatch_at is not None and len(queued) == 1  # released, queued
    assert cancel_forward(cancel_request_id=request.pk) == "sent"
    request.refresh_from_db()
    assert request.outcome == CancelRequest.Outcome.ACCEPTED

    Order.objects.filter(pk=order.pk).update(next_poll_at="2000-01-01T00:00:00Z")
    provider_poll(provider=Provider.objects.get())
    order.refresh_from_db()
    assert order.status in (OrderStatus.CANCELED, OrderStatus.PARTIAL) and order.refunded > 0
    assert sandbox_stats(sandbox)["adds_per_link"][order.link] == 1


def test_a_cancel_while_sending_cancels_here_when_the_add_never_landed(
    place: Callable[..., Order], sandbox: SandboxServer, customer: User
) -> None:
    order = place(has_cancel=True)

    with cancel_during_add(order, then=ProviderUnavailable("refused", action="add")):
        assert order_forward(order_id=order.pk) == "retry"

    order.refresh_from_db()
    assert (order.status, order.dispatch_state, order.refunded) == (
        OrderStatus.CANCELED,
        DispatchState.FAILED,
        order.charge,
    )
    request = CancelRequest.objects.get(order=order)
    assert (request.outcome, request.dispatch_state) == ("accepted", DispatchState.FAILED)
    assert order_forward(order_id=order.pk) == "skipped"  # never sent after all
    customer.refresh_from_db()
    assert customer.balance == Decimal(100)
    assert sandbox_stats(sandbox)["add_calls"] == 0


def test_a_cancel_held_through_review_is_applied_by_the_resolution(
    place: Callable[..., Order], staff: User, sandbox: SandboxServer
) -> None:
    # given a cancel recorded while the add's answer was lost
    order = place(has_cancel=True)
    with cancel_during_add(order, then=ProviderAmbiguous("timeout", action="add")):
        assert order_forward(order_id=order.pk) == "needs_review"
    assert CancelRequest.objects.get(order=order).outcome == "waiting"

    # when the admin checks it is not at the provider and sends it again
    review_resolve(
        kind=Kind.ORDER,
        pk=order.pk,
        resolution=Resolution.SEND_AGAIN,
        admin=staff,
        answer=Answer(confirmed_absent=True),
    )

    # then the customer's cancel wins: canceled here, refunded, never bought
    order.refresh_from_db()
    assert (order.status, order.refunded) == (OrderStatus.CANCELED, order.charge)
    assert CancelRequest.objects.get(order=order).outcome == "accepted"
    assert order_forward(order_id=order.pk) == "skipped"


def test_a_cancel_while_sending_is_not_taken_for_a_service_without_cancel(
    place: Callable[..., Order],
) -> None:
    from orders.errors import CancelNotAvailable

    order = place(has_cancel=False)
    Order.objects.filter(pk=order.pk).update(dispatch_state=DispatchState.SENDING)
    with pytest.raises(CancelNotAvailable):
        order_cancel(user=order.user, order_id=order.pk)


@pytest.mark.usefixtures("catalog")
def test_the_api_answers_that_a_cancel_while_sending_was_accepted(
    client: Client, reseller: User, reseller_key: str, place: Callable[..., Order]
) -> None:
    order = place(user=reseller, has_cancel=True)
    Order.objects.filter(pk=order.pk).update(dispatch_state=DispatchState.SENDING)

    answer = client.post(
        "/api/v2", {"key": reseller_key, "action": "cancel", "orders": str(order.pk)}
    ).json()

    assert answer == [{"order": order.pk, "cancel": 1}]
    assert CancelRequest.objects.get(order=order).outcome == "waiting"


def test_the_sweeper_applies_a_held_cancel_whose_order_moved_on(
    place: Callable[..., Order],
    sandbox: SandboxServer,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    # given a held cancel whose order was sent without anyone applying it (a lost race)
    order = place(has_cancel=True)
    Order.objects.filter(pk=order.pk).update(dispatch_state=DispatchState.SENDING)
    order_cancel(user=order.user, order_id=order.pk)
    Order.objects.filter(pk=order.pk).update(dispatch_state=DispatchState.SENT, upstream_id="1")

    # when the sweeper runs, the cancel is released to go upstream
    with django_capture_on_commit_callbacks() as queued:
        dispatch_sweep()

    request = CancelRequest.objects.get(order=order)
    assert request.next_dispatch_at is not None and len(queued) == 1
