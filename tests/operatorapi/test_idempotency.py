"""Every write carries an Idempotency-Key: a repeat is answered from the stored answer and acts
once, the same key with another body is refused with 422, records live a day."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import BalanceTransaction, User
from operatorapi.models import ApiCall, IdempotencyRecord
from operatorapi.services import idempotency_records_purge
from orders.models import Order
from tests.operatorapi.conftest import Api

pytestmark = pytest.mark.django_db


def test_a_repeat_is_answered_from_the_stored_answer_and_acts_once(
    api: Api, customer: User
) -> None:
    body = {"amount": "7", "reason": "goodwill"}
    first = api.post(f"users/{customer.pk}/balance", body, idempotency_key="k-1")
    again = api.post(f"users/{customer.pk}/balance", body, idempotency_key="k-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert BalanceTransaction.objects.filter(user=customer, memo="goodwill").count() == 1
    assert User.objects.get(pk=customer.pk).balance == Decimal(107)
    assert list(ApiCall.objects.order_by("pk").values_list("replayed", flat=True)) == [False, True]


def test_the_same_key_with_another_body_is_refused(api: Api, customer: User) -> None:
    api.post(f"users/{customer.pk}/balance", {"amount": "7", "reason": "a"}, idempotency_key="k")
    other = api.post(
        f"users/{customer.pk}/balance", {"amount": "70", "reason": "a"}, idempotency_key="k"
    )
    assert other.status_code == 422 and other.json()["error_code"] == "idempotency_key_reused"
    assert User.objects.get(pk=customer.pk).balance == Decimal(107)


def test_a_write_without_the_header_is_refused(api: Api, customer: User) -> None:
    answer = api.post(f"users/{customer.pk}/balance", {"amount": "7", "reason": "a"}, "")
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "idempotency_key_required"
    assert User.objects.get(pk=customer.pk).balance == Decimal(100)


def test_a_refusal_is_an_answer_too(api: Api, place: Callable[..., Order]) -> None:
    order = place()
    first = api.post(f"orders/{order.pk}/refill", idempotency_key="r")
    assert first.status_code == 409
    assert api.post(f"orders/{order.pk}/refill", idempotency_key="r").json() == first.json()


def test_a_request_still_running_is_not_run_twice(api: Api, customer: User, root: User) -> None:
    record = IdempotencyRecord.objects.create(
        key=root.staff_api_keys.get(), idempotency_key="busy", request_digest="x"
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(request_digest=_digest_of(api, customer))
    answer = api.post(f"users/{customer.pk}/balance", {"amount": "1", "reason": "a"}, "busy")
    assert answer.status_code == 409 and answer.json()["error_code"] == "idempotency_key_in_use"


def _digest_of(api: Api, customer: User) -> str:
    """The digest of the request the test sends, read from a first run under another key."""
    api.post(f"users/{customer.pk}/balance", {"amount": "1", "reason": "a"}, "probe")
    return IdempotencyRecord.objects.get(idempotency_key="probe").request_digest


def test_records_expire_after_a_day(api: Api, customer: User) -> None:
    body = {"amount": "1", "reason": "daily"}
    api.post(f"users/{customer.pk}/balance", body, idempotency_key="d")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    api.post(f"users/{customer.pk}/balance", body, idempotency_key="d")
    assert BalanceTransaction.objects.filter(memo="daily").count() == 2
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert idempotency_records_purge() == 1


def test_a_fault_is_logged_and_frees_the_idempotency_key(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from operatorapi.api import catalog
    from providers.models import Service
    from tests.factories import ServiceFactory

    service = ServiceFactory()

    def broken(**kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(catalog, "catalog_set_on_sale", broken)
    api.client.raise_request_exception = False
    assert api.post(f"services/{service.pk}/disable", idempotency_key="f").status_code == 500
    call = ApiCall.objects.get()
    assert (call.status_code, call.error_code) == (500, "server_error")
    assert not IdempotencyRecord.objects.exists()  # nothing happened: the retry may act
    monkeypatch.undo()
    assert api.post(f"services/{service.pk}/disable", idempotency_key="f").status_code == 200
    assert not Service.objects.get(pk=service.pk).is_enabled
