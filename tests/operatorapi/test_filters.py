"""Every list filter docs/admin-api.md names narrows what it says (creation time, status,
service, user, provider and the rest), and paging by offset and by cursor up to 1,000 rows."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from orders.models import Order
from payments.models import Deposit
from providers.models import Service
from support.services import ticket_open
from tests.factories import ServiceFactory, UserFactory
from tests.operatorapi.conftest import Api

pytestmark = pytest.mark.django_db


def _ids(answer: object) -> list[int]:
    body = answer.json()  # type: ignore[attr-defined]
    assert "data" in body, body
    return [row["id"] for row in body["data"]]


def test_orders_filter_by_service_provider_user_time_and_page_by_offset(
    api: Api, place: Callable[..., Order], customer: User, service_of: Callable[..., Service]
) -> None:
    # given orders of two services at two providers, one of them a week old
    usual = service_of()
    elsewhere = ServiceFactory(rate=Decimal("2.5"))
    old, first, second = place(service=usual), place(service=usual), place(service=elsewhere)
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=7))
    bob = UserFactory(funds=Decimal(50))
    theirs = place(user=bob, service=usual)

    assert _ids(api.get("orders", service=str(elsewhere.pk))) == [second.pk]
    assert _ids(api.get("orders", provider=str(elsewhere.provider_id))) == [second.pk]
    assert _ids(api.get("orders", provider=str(usual.provider_id), user=str(bob.pk))) == [theirs.pk]
    assert _ids(api.get("orders", username=bob.username.upper())) == [theirs.pk]
    a_day_ago = int((timezone.now() - timedelta(days=1)).timestamp())
    assert _ids(api.get("orders", created_to=str(a_day_ago))) == [old.pk]
    assert old.pk not in _ids(api.get("orders", created_from=str(a_day_ago)))
    # newest first; an offset skips, as Perfect Panel's tools page
    assert _ids(api.get("orders", user=str(customer.pk), limit=1, offset=1)) == [first.pk]
    assert _ids(api.get("orders", link=first.link)) == [first.pk]
    assert api.get("orders", limit=1000).status_code == 200
    assert api.get("orders", created_from="yesterday").json()["error_code"] == "invalid_parameter"
    assert api.get("orders", provider="x").status_code == 400


def test_users_filter_by_sign_up_time_state_and_email(api: Api, customer: User) -> None:
    gone = UserFactory(is_active=False, email="Gone@Example.com")
    User.objects.filter(pk=gone.pk).update(date_joined=timezone.now() - timedelta(days=30))
    a_week_ago = (timezone.now() - timedelta(days=7)).isoformat()

    assert _ids(api.get("users", is_active="0")) == [gone.pk]
    assert _ids(api.get("users", email="gone@example.com")) == [gone.pk]
    assert gone.pk not in _ids(api.get("users", created_from=a_week_ago))
    assert gone.pk in _ids(api.get("users", created_to=a_week_ago))


def _deposit(user: User | None, status: str, gateway: str = "sepay") -> Deposit:
    return Deposit.objects.create(
        user=user,
        gateway=gateway,
        external_id=f"tx-{Deposit.objects.count()}",
        amount=Decimal("50000"),
        currency="VND",
        rate=Decimal("25000"),
        status=status,
        memo="nap tien",
    )


def test_deposits_filter_by_status_gateway_user_and_queue(api: Api, customer: User) -> None:
    unmatched = _deposit(None, Deposit.Status.UNMATCHED)
    pending = _deposit(customer, Deposit.Status.PENDING, gateway="stripe")
    review = _deposit(customer, Deposit.Status.REVIEW, gateway="casso")

    assert _ids(api.get("deposits", queue="1")) == [review.pk, unmatched.pk]
    assert _ids(api.get("deposits", status="pending")) == [pending.pk]
    assert _ids(api.get("deposits", gateway="casso,stripe")) == [review.pk, pending.pk]
    assert _ids(api.get("deposits", user=str(customer.pk))) == [review.pk, pending.pk]
    assert api.get("deposits", gateway="paypal").status_code == 400


def test_tickets_filter_by_user_and_order(
    api: Api, customer: User, place: Callable[..., Order]
) -> None:
    order = place()
    about = ticket_open(
        user=customer,
        kind="order",
        request="refill",
        subject="",
        message="It dropped",
        order_ids=str(order.pk),
    )
    other = ticket_open(user=UserFactory(), kind="other", subject="Hi", message="Hello")

    assert _ids(api.get("tickets", order=str(order.pk))) == [about.pk]
    assert _ids(api.get("tickets", user=str(other.user_id))) == [other.pk]
    assert _ids(api.get("tickets", status="closed")) == []


def test_services_filter_by_provider_category_and_sale(api: Api) -> None:
    on, off = ServiceFactory(), ServiceFactory(is_enabled=False)

    assert _ids(api.get("services", provider=str(off.provider_id))) == [off.pk]
    assert _ids(api.get("services", category=str(on.category_id))) == [on.pk]
    assert off.pk not in _ids(api.get("services", enabled="1"))
    assert _ids(api.get("services", enabled="0")) == [off.pk]
