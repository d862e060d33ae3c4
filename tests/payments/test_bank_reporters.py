"""One bank transfer reported by both SePay and Casso (a move from one to the other, or both
"for redundancy") is credited once, in any order and concurrently: the deposit is keyed on what
the bank says, and the second report is recorded against it. The admin's gateway page says
which reporter is active and warns when both are."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation

from accounts.models import BalanceTransaction, User
from payments.admin import also_reported
from payments.models import Deposit, GatewaySettings, Method, TransferReport
from tests.factories import UserFactory
from tests.payments.senders import (
    CASSO_KEY,
    SEPAY_KEY,
    casso_body,
    post_casso,
    post_sepay,
    sepay_body,
)

pytestmark = [pytest.mark.usefixtures("bank"), pytest.mark.django_db]

BANK_REFERENCE = "FT26339812345678"


def _sepay(user: User, *, transfer_id: int = 501, amount: int = 100000, **extra: object) -> dict:
    bank = {"referenceCode": BANK_REFERENCE, "transactionDate": "2026-12-05 14:02:37"}
    return sepay_body(
        transfer_id=transfer_id,
        amount=amount,
        content=f"NAP{user.pk} chuyen tien",
        **{**bank, **extra},
    )


def _casso(user: User, *, transfer_id: int = 9001, amount: int = 100000) -> dict:
    # Casso's own id and clock differ from SePay's; the bank's reference, account, amount and
    # day are the same transfer's.
    body = casso_body(
        transfer_id=transfer_id, amount=amount, description=f"NAP{user.pk} chuyen tien"
    )
    body["data"]["reference"] = BANK_REFERENCE
    body["data"]["transactionDateTime"] = "2026-12-05 14:02:41"
    return body


def _deposit_lines(user: User) -> list[tuple[str, Decimal]]:
    return list(
        BalanceTransaction.objects.filter(user=user, deposit_id__isnull=False)
        .order_by("id")
        .values_list("kind", "amount")
    )


def test_a_transfer_reported_by_sepay_then_casso_is_credited_once(
    client: Client, customer: User
) -> None:
    # when: SePay reports it, then Casso (twice: a replay of the second report)
    assert post_sepay(client, _sepay(customer)).status_code == 200
    assert post_casso(client, _casso(customer)).status_code == 200
    assert post_casso(client, _casso(customer)).status_code == 200

    # then: one deposit, one credit, Casso's report recorded against it once
    deposit = Deposit.objects.get()
    assert (deposit.gateway, deposit.external_id) == ("sepay", "501")
    assert deposit.status == Deposit.Status.CREDITED
    assert _deposit_lines(customer) == [("deposit", Decimal("4"))]
    report = TransferReport.objects.get()
    assert (report.deposit_id, report.gateway, report.external_id) == (deposit.pk, "casso", "9001")
    assert report.payload["data"]["id"] == 9001


def test_a_transfer_reported_by_casso_then_sepay_is_credited_once(
    client: Client, customer: User
) -> None:
    assert post_casso(client, _casso(customer)).status_code == 200
    assert post_sepay(client, _sepay(customer)).status_code == 200
    assert post_sepay(client, _sepay(customer)).status_code == 200

    deposit = Deposit.objects.get()
    assert (deposit.gateway, deposit.external_id) == ("casso", "9001")
    assert _deposit_lines(customer) == [("deposit", Decimal("4"))]
    assert list(TransferReport.objects.values_list("gateway", "external_id")) == [("sepay", "501")]


def test_the_bank_key_is_what_the_bank_says(client: Client, customer: User) -> None:
    post_sepay(client, _sepay(customer, referenceCode=f" {BANK_REFERENCE.lower()} "))
    deposit = Deposit.objects.get()
    assert deposit.bank_account == "0011001800879"
    assert deposit.bank_reference == BANK_REFERENCE
    assert str(deposit.bank_date) == "2026-12-05"


def test_other_transfers_with_the_same_reference_are_not_merged(
    client: Client, customer: User
) -> None:
    # given: the same bank reference, but another amount, and another day
    post_sepay(client, _sepay(customer))
    post_casso(client, _casso(customer, transfer_id=9002, amount=200000))
    post_sepay(client, _sepay(customer, transfer_id=502, transactionDate="2026-12-06 09:00:00"))

    # then: three transfers, three credits
    assert Deposit.objects.filter(status=Deposit.Status.CREDITED).count() == 3
    assert not TransferReport.objects.exists()
    assert sorted(amount for _, amount in _deposit_lines(customer)) == [
        Decimal("4"),
        Decimal("4"),
        Decimal("8"),
    ]


def test_a_report_without_a_bank_reference_is_kept_per_reporter(
    client: Client, customer: User
) -> None:
    post_sepay(client, _sepay(customer, referenceCode=None))
    assert Deposit.objects.get().bank_reference == ""
    post_sepay(client, _sepay(customer, referenceCode=None))  # its replay still finds it
    assert _deposit_lines(customer) == [("deposit", Decimal("4"))]


@pytest.mark.django_db(transaction=True)
def test_both_reporters_racing_with_replays_credit_once() -> None:
    # given: SePay and Casso each deliver the same transfer five times, all at once
    customer = UserFactory(username="racer2")
    senders = [lambda: post_sepay(Client(), _sepay(customer))] * 5
    senders += [lambda: post_casso(Client(), _casso(customer))] * 5
    statuses: list[int] = []
    barrier = threading.Barrier(len(senders))

    def send(post: object) -> None:
        try:
            barrier.wait()
            statuses.append(post().status_code)  # type: ignore[operator]
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=send, args=(post,)) for post in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: every delivery acknowledged, one deposit, one credit, the other reporter recorded
    assert statuses == [200] * 10
    deposit = Deposit.objects.get()
    assert deposit.status == Deposit.Status.CREDITED
    assert _deposit_lines(customer) == [("deposit", Decimal("4"))]
    other = "casso" if deposit.gateway == "sepay" else "sepay"
    assert list(TransferReport.objects.values_list("deposit_id", "gateway")) == [
        (deposit.pk, other)
    ]


def test_the_admin_shows_the_second_reporter_in_the_readers_language(
    client: Client, customer: User, staff: User
) -> None:
    # given
    post_sepay(client, _sepay(customer))
    post_casso(client, _casso(customer))
    deposit = Deposit.objects.get()

    # when
    client.force_login(staff)
    page = client.get(f"/admin/payments/deposit/{deposit.pk}/change/").content.decode()
    listing = client.get("/admin/payments/deposit/").content.decode()

    # then: stored as a row, worded when shown
    assert "Also reported by Casso (transfer 9001)" in page
    assert "Also reported by Casso (transfer 9001)" in listing
    with translation.override("vi"):
        assert also_reported(deposit) == "Casso cũng báo giao dịch này (mã 9001)"


def test_the_gateway_page_names_the_one_active_reporter(
    client: Client, staff: User, settings: object
) -> None:
    settings.PANEL_CASSO_CHECKSUM_KEY = ""
    client.force_login(staff)
    page = client.get("/admin/payments/gatewaysettings/add/").content.decode()
    assert "SePay is the active reporter." in page
    assert "Both SePay and Casso report" not in page


def test_the_gateway_page_warns_when_both_reporters_are_active(client: Client, staff: User) -> None:
    client.force_login(staff)
    for url in ("/admin/payments/gatewaysettings/", "/admin/payments/gatewaysettings/add/"):
        page = client.get(url).content.decode()
        assert "Both SePay and Casso report bank transfers." in page, url


def test_the_gateway_page_stops_a_reporter_whose_key_it_stored(
    client: Client, staff: User, settings: object
) -> None:
    # given: both keys stored on the bank's settings row, none in the environment
    settings.PANEL_SEPAY_API_KEY = settings.PANEL_CASSO_CHECKSUM_KEY = ""
    row = GatewaySettings(method=Method.BANK)
    row.secrets = {"sepay_api_key": SEPAY_KEY, "casso_checksum_key": CASSO_KEY}
    row.save()
    client.force_login(staff)
    url = f"/admin/payments/gatewaysettings/{row.pk}/change/"
    assert "Both SePay and Casso report" in client.get(url).content.decode()

    # when: the admin stops Casso
    response = client.post(
        url, {"method": "bank", "is_enabled": "on", "forget_reporters": ["casso_checksum_key"]}
    )

    # then: only SePay's key is left, and the page says SePay reports
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.secrets == {"sepay_api_key": SEPAY_KEY}
    assert "SePay is the active reporter." in client.get(url).content.decode()
