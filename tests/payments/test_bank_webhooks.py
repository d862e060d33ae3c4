"""SePay and Casso webhooks: credited once by memo, replays and races harmless, bad input
refused with a 4xx and nothing credited."""

import json
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from accounts.models import BalanceTransaction, User
from payments.models import BonusRule, Deposit, GatewaySettings, Method
from tests.factories import UserFactory
from tests.payments.senders import (
    casso_body,
    casso_node_signature,
    casso_signature,
    post_casso,
    post_sepay,
    sepay_body,
)

pytestmark = [pytest.mark.usefixtures("bank"), pytest.mark.django_db]


def _ledger(user: User) -> list[tuple[str, Decimal]]:
    return list(
        BalanceTransaction.objects.filter(user=user, deposit_id__isnull=False)
        .order_by("id")
        .values_list("kind", "amount")
    )


def test_sepay_transfer_with_the_memo_credits_the_customer(client: Client, customer: User) -> None:
    # when
    response = post_sepay(
        client,
        sepay_body(
            transfer_id=92704, amount=250000, content=f"MBVCB.123 nap{customer.pk} chuyen tien"
        ),
    )
    # then
    assert response.status_code == 200
    assert response.json() == {"success": True}
    deposit = Deposit.objects.get(gateway="sepay", external_id="92704")
    assert deposit.status == Deposit.Status.CREDITED
    assert deposit.user == customer
    assert deposit.credited_amount == Decimal("10")  # 250,000 VND at 25,000 VND per USD
    assert deposit.rate == Decimal("25000")
    customer.refresh_from_db()
    assert customer.balance == Decimal("110")


def test_sepay_replayed_twenty_times_credits_once(client: Client, customer: User) -> None:
    body = sepay_body(transfer_id=5, amount=100000, content=f"NAP{customer.pk}")
    for _ in range(20):
        assert post_sepay(client, body).status_code == 200
    assert _ledger(customer) == [("deposit", Decimal("4"))]


@pytest.mark.django_db(transaction=True)
def test_sepay_replayed_twenty_times_concurrently_credits_once() -> None:
    # given
    customer = UserFactory(username="racer")
    body = sepay_body(transfer_id=777, amount=100000, content=f"NAP{customer.pk}")
    statuses: list[int] = []
    barrier = threading.Barrier(20)

    def send() -> None:
        try:
            barrier.wait()
            statuses.append(post_sepay(Client(), body).status_code)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert statuses == [200] * 20
    assert Deposit.objects.filter(external_id="777").count() == 1
    assert _ledger(customer) == [("deposit", Decimal("4"))]


def test_bonus_line_is_written_once(client: Client, customer: User) -> None:
    BonusRule.objects.create(gateway="", min_amount=Decimal("5"), percent=Decimal("2"))
    BonusRule.objects.create(gateway="sepay", min_amount=Decimal("10"), percent=Decimal("10"))
    body = sepay_body(transfer_id=6, amount=500000, content=f"NAP{customer.pk}")
    for _ in range(3):
        post_sepay(client, body)
    assert _ledger(customer) == [("deposit", Decimal("20")), ("bonus", Decimal("2"))]
    assert Deposit.objects.get(external_id="6").bonus_amount == Decimal("2")


def test_unmatched_transfer_is_credited_once_when_assigned(
    client: Client, customer: User, staff: User
) -> None:
    # given: a transfer whose memo names nobody
    body = sepay_body(transfer_id=8, amount=50000, content="chuyen tien khong ghi ma")
    post_sepay(client, body)
    deposit = Deposit.objects.get(external_id="8")
    assert deposit.status == Deposit.Status.UNMATCHED and deposit.user is None
    # when: the admin assigns it, twice, and the webhook comes again
    client.force_login(staff)
    url = f"/admin/payments/unmatcheddeposit/{deposit.pk}/assign/"
    assert client.post(url, {"username": customer.username}).status_code == 302
    second = client.post(url, {"username": customer.username})
    post_sepay(Client(), body)
    # then
    assert second.status_code == 200  # the form shows that it is already credited
    assert _ledger(customer) == [("deposit", Decimal("2"))]
    entry = BalanceTransaction.objects.get(deposit_id=deposit.pk)
    assert entry.created_by == staff


def test_unmatched_queue_lists_the_transfer(client: Client, staff: User) -> None:
    post_sepay(client, sepay_body(transfer_id=9, amount=50000, content="no memo"))
    client.force_login(staff)
    page = client.get("/admin/payments/unmatcheddeposit/")
    assert page.status_code == 200
    assert "no memo" in page.content.decode()


def test_admin_rejects_an_unmatched_transfer(client: Client, staff: User) -> None:
    post_sepay(client, sepay_body(transfer_id=10, amount=50000, content="test"))
    deposit = Deposit.objects.get(external_id="10")
    client.force_login(staff)
    client.post(f"/admin/payments/unmatcheddeposit/{deposit.pk}/reject/", {"reason": "returned"})
    deposit.refresh_from_db()
    assert deposit.status == Deposit.Status.REJECTED
    assert "returned" in deposit.reason


def test_transfer_above_the_gateway_maximum_waits_for_review(
    client: Client, customer: User
) -> None:
    GatewaySettings.objects.create(method=Method.BANK, max_amount=Decimal("1000000"))
    post_sepay(client, sepay_body(transfer_id=11, amount=2000000, content=f"NAP{customer.pk}"))
    deposit = Deposit.objects.get(external_id="11")
    assert deposit.status == Deposit.Status.REVIEW
    assert deposit.user == customer
    assert _ledger(customer) == []


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"transferAmount": -100000}, 400, "bad amount"),
        ({"transferAmount": 0}, 400, "bad amount"),
        ({"transferAmount": "lots"}, 400, "bad amount"),
        ({"transferAmount": True}, 400, "bad amount"),
        ({"accountNumber": "999999"}, 400, "not our account"),
        ({"id": None}, 400, "missing transaction id"),
    ],
)
def test_sepay_bad_input_credits_nothing(
    client: Client, customer: User, change: dict, status: int, reason: str
) -> None:
    body = {**sepay_body(transfer_id=12, amount=100000, content=f"NAP{customer.pk}"), **change}
    response = post_sepay(client, body)
    assert (response.status_code, response.json()["error"]) == (status, reason)
    assert not Deposit.objects.exists()


def test_sepay_wrong_api_key_is_refused(client: Client, customer: User) -> None:
    body = sepay_body(transfer_id=13, amount=100000, content=f"NAP{customer.pk}")
    response = post_sepay(client, body, key="guess")
    assert response.status_code == 401
    assert not Deposit.objects.exists()


def test_sepay_malformed_body_is_refused(client: Client) -> None:
    for raw in ("not json", "[1, 2]", ""):
        response = client.post(
            "/payments/webhooks/sepay/",
            data=raw,
            content_type="application/json",
            HTTP_AUTHORIZATION="Apikey sepay-test-key-0123456789",
        )
        assert response.status_code == 400
    assert not Deposit.objects.exists()


def test_sepay_outgoing_transfer_is_acknowledged_and_ignored(
    client: Client, customer: User
) -> None:
    body = sepay_body(
        transfer_id=14, amount=100000, content=f"NAP{customer.pk}", transferType="out"
    )
    assert post_sepay(client, body).status_code == 200
    assert not Deposit.objects.exists()


def test_webhook_of_an_unconfigured_gateway_is_refused(client: Client, settings: object) -> None:
    settings.PANEL_SEPAY_API_KEY = ""
    settings.PANEL_CASSO_CHECKSUM_KEY = ""
    response = post_sepay(client, sepay_body(transfer_id=1, amount=1, content=""), key="")
    assert response.status_code == 404


def test_casso_signed_transfer_is_credited_once(client: Client, customer: User) -> None:
    body = casso_body(transfer_id=41, amount=75000, description=f"CT DEN:123 NAP{customer.pk} FT")
    for _ in range(5):
        assert post_casso(client, body).status_code == 200
    assert _ledger(customer) == [("deposit", Decimal("3"))]


def test_casso_bad_signature_is_refused(client: Client, customer: User) -> None:
    body = casso_body(transfer_id=42, amount=75000, description=f"NAP{customer.pk}")
    signature = casso_signature(body, key="not-the-key")
    assert post_casso(client, body, signature=signature).status_code == 401
    tampered = casso_signature(body)
    body["data"]["amount"] = 7500000
    assert post_casso(client, body, signature=tampered).status_code == 401
    assert not Deposit.objects.exists()


def test_casso_stale_timestamp_is_refused(client: Client, customer: User) -> None:
    body = casso_body(transfer_id=43, amount=75000, description=f"NAP{customer.pk}")
    old = int((time.time() - 3600) * 1000)
    response = post_casso(client, body, signature=casso_signature(body, stamp_ms=old))
    assert response.status_code == 401
    assert response.json()["error"] == "stale timestamp"
    assert not Deposit.objects.exists()


def test_casso_negative_amount_is_refused(client: Client, customer: User) -> None:
    body = casso_body(transfer_id=44, amount=-75000, description=f"NAP{customer.pk}")
    assert post_casso(client, body).status_code == 400
    assert not Deposit.objects.exists()


def test_casso_published_sample_signature_verifies(client: Client, settings: object) -> None:
    """Casso's own sample (casso-webhook-v2-verify-signature): body, key, header and all."""
    sample = json.loads(
        '{"error":0,"data":{"id":0,"reference":"MA_GIAO_DICH_THU_NGHIEM","description":"giao dich thu nghiem",'
        '"amount":599000,"runningBalance":25000000,"transactionDateTime":"2024-10-03 15:06:37",'
        '"accountNumber":"88888888","bankName":"VPBank","bankAbbreviation":"VPB","virtualAccountNumber":"",'
        '"virtualAccountName":"","counterAccountName":"NGUYEN VAN A","counterAccountNumber":"8888888888",'
        '"counterAccountBankId":"970415","counterAccountBankName":"VietinBank"}}'
    )
    header = (
        "t=1727948258788,v1=ed0a4bd2e826d5cb69988cdb141e6c1a080e21f3b57eb72cd78192220042b9e7dde0868fc667"
        "faea8e224900fa7904e7c88dfa098032fb2d6b6996856e8b7ff3"
    )
    settings.PANEL_WEBHOOK_TOLERANCE_SECONDS = 10**10  # the sample is from 2024
    settings.PANEL_BANK_ACCOUNT = "88888888"
    response = post_casso(client, sample, signature=header)
    # The signature holds; the sample's memo names nobody, so it waits in the unmatched queue.
    assert response.status_code == 200
    assert Deposit.objects.get(gateway="casso", external_id="0").status == "unmatched"


@pytest.mark.parametrize(
    "description",
    [
        "Nạp tiền tài khoản NAP{pk} – cảm ơn",
        "CHUYỂN KHOẢN ĐẾN NAP{pk} từ NGUYỄN VĂN ĐỨC",
        "NAP{pk} ghi chú: phí/chuyển “nhanh” 😀",
    ],
)
def test_casso_signed_as_its_node_sample_with_diacritics_is_credited(
    client: Client, customer: User, description: str
) -> None:
    """Casso's Node signer keeps "ạ" as UTF-8 in the signed text; before, only the \\u-escaped
    spellings were tried and a Vietnamese memo was refused with 401."""
    body = casso_body(transfer_id=45, amount=75000, description=description.format(pk=customer.pk))
    body["data"]["counterAccountName"] = "NGUYỄN THỊ HẰNG"

    response = post_casso(client, body, signature=casso_node_signature(body))

    assert response.status_code == 200
    assert _ledger(customer) == [("deposit", Decimal("3"))]
    assert Deposit.objects.get(gateway="casso").memo == description.format(pk=customer.pk)


def test_casso_python_spelling_of_diacritics_still_verifies(client: Client, customer: User) -> None:
    body = casso_body(transfer_id=46, amount=75000, description=f"Nạp tiền NAP{customer.pk}")
    assert post_casso(client, body, signature=casso_signature(body)).status_code == 200
    assert _ledger(customer) == [("deposit", Decimal("3"))]


def test_casso_diacritics_signed_with_another_key_are_refused(
    client: Client, customer: User
) -> None:
    body = casso_body(transfer_id=47, amount=75000, description=f"Nạp tiền NAP{customer.pk}")
    response = post_casso(client, body, signature=casso_node_signature(body, key="other"))
    assert response.status_code == 401
    assert not Deposit.objects.exists()


def test_casso_node_spelling_matches_json_stringify_exactly() -> None:
    """Expected text written by Node 18's JSON.stringify(sortObjDataByKey(JSON.parse(body)))."""
    from payments.gateways.casso import _signed_texts

    body = (
        '{"b":1.50,"a":1e21,"10":"x","9":"y","c":"n\u1ea1p/\\ud800","d":{"z":0.0000001,"y":-0.0,'
        '"x":12345678901234567890},"e":[{"b":1,"a":2}],"f":1e400}'
    ).encode()

    node = _signed_texts(body)[0]

    assert node == (
        '{"9":"y","10":"x","a":1e+21,"b":1.5,"c":"n\u1ea1p/\\ud800","d":{"x":12345678901234567000,'
        '"y":0,"z":1e-7},"e":[{"b":1,"a":2}],"f":null}'
    )
