"""Defect 7: with the broker down right after commit, the caller still gets its order (charged
once, left queued), and the sweeper forwards it once the broker is back."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from orders.models import DispatchState, Order
from orders.services import dispatch_sweep
from providers.models import Provider, Service, ServiceType
from tests.support import with_form_token

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused


def _drop_broker_connections(app: object) -> None:
    # Celery keeps a connection pool and a producer pool built from the broker URL it first saw.
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def broker_down() -> Iterator[None]:
    from panel.celery import app

    # Publishing uses the write URL when one is set, so this reroutes only what we publish.
    saved = app.conf.broker_write_url
    app.conf.broker_write_url = CLOSED_PORT_BROKER
    _drop_broker_connections(app)
    try:
        yield
    finally:
        app.conf.broker_write_url = saved
        _drop_broker_connections(app)


@pytest.fixture
def service(catalog: Provider) -> Service:
    service = Service.objects.filter(type=ServiceType.DEFAULT).order_by("pk").first()
    assert service is not None
    return service


@pytest.mark.usefixtures("broker_down")
def test_api_add_answers_the_order_id_when_the_broker_is_down(
    transactional_db: None, client: Client, reseller_key: str, reseller: User, service: Service
) -> None:
    response = client.post(
        "/api/v2",
        {
            "key": reseller_key,
            "action": "add",
            "service": service.pk,
            "link": "https://instagram.com/p/outage",
            "quantity": str(service.min),
        },
    )

    assert response.status_code == 200
    order = Order.objects.get(user=reseller)
    assert response.json() == {"order": order.pk}
    assert order.dispatch_state == DispatchState.QUEUED  # waits for the sweeper
    reseller.refresh_from_db()
    assert reseller.balance == 100 - order.charge  # charged once


@pytest.mark.usefixtures("broker_down")
def test_the_order_form_does_not_error_when_the_broker_is_down(
    transactional_db: None, client: Client, customer: User, service: Service
) -> None:
    client.force_login(customer)

    response = client.post(
        reverse("order_new"),
        with_form_token(
            {"service": service.pk, "link": "https://instagram.com/p/form", "quantity": service.min}
        ),
    )

    assert response.status_code == 302
    assert Order.objects.filter(user=customer).count() == 1


def test_the_sweeper_forwards_what_the_outage_left_queued(
    transactional_db: None, broker_down: None, client: Client, customer: User, service: Service
) -> None:
    from unittest import mock

    client.force_login(customer)
    client.post(
        reverse("order_new"),
        with_form_token(
            {
                "service": service.pk,
                "link": "https://instagram.com/p/swept",
                "quantity": service.min,
            }
        ),
    )
    order = Order.objects.get(user=customer)

    with mock.patch("orders.tasks.order_forward_task.apply_async") as publish:
        dispatch_sweep(now=timezone.now() + timedelta(minutes=1))

    publish.assert_called_once_with((order.pk,), queue=f"forward.{order.provider_id % 16}")
