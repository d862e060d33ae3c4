"""Each endpoint through the services its admin page uses, with exact money."""

from collections.abc import Callable
from decimal import Decimal

import pytest

from accounts.models import BalanceTransaction, User
from orders.models import DispatchState, Order, OrderStatus, Refill
from payments.models import Deposit
from providers.models import Service
from support.models import Ticket, TicketMessage, TicketStatus
from support.services import ticket_open
from tests.factories import UserFactory
from tests.operatorapi.conftest import Api

pytestmark = pytest.mark.django_db
REVIEW = DispatchState.NEEDS_REVIEW


def test_orders_list_filters_and_pages_with_a_stable_cursor(
    api: Api, place: Callable[..., Order], customer: User
) -> None:
    orders = [place() for _ in range(5)]
    other = place(user=UserFactory(funds=Decimal(100)))
    page = api.get("orders", limit=2, user=customer.pk).json()
    assert [row["id"] for row in page["data"]] == [orders[4].pk, orders[3].pk]
    place()  # a new order does not shift the next page
    rest = api.get("orders", limit=10, user=customer.pk, cursor=page["pagination"]["next_cursor"])
    assert [row["id"] for row in rest.json()["data"]] == [o.pk for o in orders[2::-1]]
    assert rest.json()["pagination"]["next_cursor"] is None
    by_status = api.get("orders", status="pending,in progress", ids=f"{other.pk}").json()
    assert [row["id"] for row in by_status["data"]] == [other.pk]
    assert api.get("orders", created_from="2100-01-01T00:00:00Z").json()["data"] == []
    assert api.get("orders", limit=1001).status_code == 400
    assert api.get("orders", status="Lost").json()["error_code"] == "invalid_parameter"


def test_order_detail_has_upstream_id_provider_cost_charge_and_events(
    api: Api, sent: Callable[..., Order]
) -> None:
    order = sent()
    data = api.get(f"orders/{order.pk}").json()["data"]
    assert data["upstream_id"] == order.upstream_id
    assert data["provider"]["id"] == order.provider_id
    assert Decimal(data["charge"]) == order.charge and Decimal(data["cost"]) == order.cost
    assert {event["field"] for event in data["events"]} >= {"dispatch"}
    assert data["allowed"]["cancel"] is order.service.has_cancel


def test_cancel_of_an_unsent_order_refunds_it_in_full(
    api: Api, place: Callable[..., Order], customer: User
) -> None:
    order = place()
    before = User.objects.get(pk=customer.pk).balance
    answer = api.post(f"orders/{order.pk}/cancel")
    assert answer.status_code == 200, answer.json()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED and order.refunded == order.charge
    assert User.objects.get(pk=customer.pk).balance == before + order.charge
    assert answer.json()["data"]["status"] == "Canceled"
    assert order.events.filter(actor="admin", actor_user__username="root").exists()


def test_refill_goes_through_the_lifecycle(api: Api, place: Callable[..., Order]) -> None:
    order = place()
    refused = api.post(f"orders/{order.pk}/refill")
    assert refused.status_code == 409 and refused.json()["error_code"] == "refill_not_available"
    assert not Refill.objects.exists()


def test_resolve_only_as_the_review_reason_allows(
    api: Api, place: Callable[..., Order], customer: User
) -> None:
    order = place()
    Order.objects.filter(pk=order.pk).update(dispatch_state=REVIEW, review_reason="add_unknown")
    refused = api.post(f"orders/{order.pk}/resolve", {"resolution": "completed"})
    assert refused.status_code == 409 and refused.json()["error_code"] == "invalid_transition"
    assert Order.objects.get(pk=order.pk).dispatch_state == REVIEW
    done = api.post(f"orders/{order.pk}/resolve", {"resolution": "cancel_refund"})
    assert done.status_code == 200, done.json()
    order.refresh_from_db()
    assert (order.status, order.refunded) == (OrderStatus.CANCELED, order.charge)
    assert order.events.filter(actor_user__username="root").exists()


def test_resend_needs_a_reason_that_allows_it_and_a_confirmation(
    api: Api, sent: Callable[..., Order], place: Callable[..., Order]
) -> None:
    at_provider = sent()
    Order.objects.filter(pk=at_provider.pk).update(
        dispatch_state=REVIEW, review_reason="unknown_status"
    )
    assert (
        api.post(f"orders/{at_provider.pk}/resend", {"confirmed_absent": True}).status_code == 409
    )
    lost = place()
    Order.objects.filter(pk=lost.pk).update(dispatch_state=REVIEW, review_reason="worker_lost")
    assert api.post(f"orders/{lost.pk}/resend").status_code == 409  # not confirmed
    answer = api.post(f"orders/{lost.pk}/resend", {"confirmed_absent": True})
    assert answer.status_code == 200, answer.json()
    assert Order.objects.get(pk=lost.pk).dispatch_state == DispatchState.QUEUED


def test_balance_adjust_writes_the_ledger_with_the_reason(
    api: Api, customer: User, root: User
) -> None:
    answer = api.post(f"users/{customer.pk}/balance", {"amount": "-12.5", "reason": "chargeback"})
    assert answer.status_code == 200, answer.json()
    line = BalanceTransaction.objects.filter(user=customer).latest("pk")
    assert (line.amount, line.memo, line.created_by) == (Decimal("-12.5"), "chargeback", root)
    assert answer.json()["data"]["balance"] == "87.5"
    assert api.post(f"users/{customer.pk}/balance", {"amount": "5"}).status_code == 400
    assert (
        api.post(f"users/{customer.pk}/balance", {"amount": "-1000", "reason": "x"}).status_code
        == 409
    )
    assert User.objects.get(pk=customer.pk).balance == Decimal("87.5")


def test_users_list_and_detail(api: Api, customer: User) -> None:
    rows = api.get("users", username="ALICE").json()["data"]
    assert [row["id"] for row in rows] == [customer.pk]
    assert api.get(f"users/{customer.pk}").json()["data"]["balance"] == "100"


def _unmatched(amount: str = "50000") -> Deposit:
    return Deposit.objects.create(
        gateway="sepay",
        external_id=f"tx-{Deposit.objects.count()}",
        amount=Decimal(amount),
        currency="VND",
        received_amount=Decimal(amount),
        received_currency="VND",
        rate=Decimal("25000"),
        status=Deposit.Status.UNMATCHED,
        memo="nap tien",
    )


def test_unmatched_deposits_are_assigned_or_rejected(api: Api, customer: User) -> None:
    first, second = _unmatched(), _unmatched()
    queue = api.get("deposits", queue=1).json()["data"]
    assert {row["id"] for row in queue} == {first.pk, second.pk}
    assigned = api.post(f"deposits/{first.pk}/assign", {"username": "alice"})
    assert assigned.status_code == 200, assigned.json()
    assert assigned.json()["data"]["status"] == "credited"
    assert User.objects.get(pk=customer.pk).balance == Decimal(100) + Decimal("2")
    assert api.post(f"deposits/{second.pk}/reject", {"reason": ""}).status_code == 400
    rejected = api.post(f"deposits/{second.pk}/reject", {"reason": "test transfer"})
    assert rejected.json()["data"]["status"] == "rejected"
    again = api.post(f"deposits/{first.pk}/assign", {"username": "alice"})
    assert again.status_code == 409


def test_tickets_list_reply_and_close(api: Api, customer: User) -> None:
    ticket = ticket_open(user=customer, kind="other", subject="Hello", message="Where is it?")
    assert [row["id"] for row in api.get("tickets", status="open").json()["data"]] == [ticket.pk]
    answer = api.post(f"tickets/{ticket.pk}/reply", {"message": "On its way."})
    assert answer.status_code == 200, answer.json()
    assert TicketMessage.objects.filter(ticket=ticket, is_staff=True, body="On its way.").exists()
    assert api.post(f"tickets/{ticket.pk}/close").json()["data"]["status"] == "closed"
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CLOSED
    assert api.post(f"tickets/{ticket.pk}/close").status_code == 409
    assert len(api.get(f"tickets/{ticket.pk}").json()["data"]["messages"]) == 2


def test_services_list_and_on_off(api: Api, service_of: Callable[..., Service]) -> None:
    service = service_of()
    rows = api.get("services", ids=str(service.pk)).json()["data"]
    assert rows[0]["enabled"] is True and rows[0]["rate"] == str(service.rate.normalize())
    assert api.post(f"services/{service.pk}/disable").json()["data"]["enabled"] is False
    assert not Service.objects.get(pk=service.pk).is_enabled
    assert api.post(f"services/{service.pk}/enable").json()["data"]["enabled"] is True
    assert api.post("services/999999/enable").status_code == 404


def test_text_the_database_cannot_store_is_refused_before_anything_is_written(
    api: Api, customer: User
) -> None:
    deposit = _unmatched()
    answer = api.post(f"deposits/{deposit.pk}/reject", {"reason": "bad\u0000text"})
    assert answer.status_code == 400 and answer.json()["error_code"] == "invalid_request"
    assert Deposit.objects.get(pk=deposit.pk).status == Deposit.Status.UNMATCHED
    assert api.get("orders", link="a\u0000b").status_code == 400
