"""A child panel's customers pay its owner: his bank account on his add-funds page, his SePay and
Casso keys on his host's webhooks, credited once on his customer's ledger (whoever reports it,
however often), never with the parent's keys or another panel's, and never touching the parent's
ledgers or the owner's balance. What matched nobody waits in his own queue."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import BalanceTransaction, ChildPanel, User
from panel.child_panels.payments import child_panel_payments_set
from payments.models import Deposit, GatewaySettings, Method, TransferReport
from tests.child_panels.conftest import CHILD_HOST, OTHER_HOST, child_customer
from tests.factories import UserFactory
from tests.payments.senders import casso_body, casso_signature, post_casso, post_sepay, sepay_body

pytestmark = pytest.mark.django_db

PARENT_ACCOUNT = "0011001800879"
CHILD_ACCOUNT = "1903555566667"
OTHER_ACCOUNT = "1903777788889"
PARENT_SEPAY, PARENT_CASSO = "parent-sepay-key-0001", "parent-casso-key-0001"
CHILD_SEPAY, CHILD_CASSO = "child-sepay-key-0002", "child-casso-key-0002"
OTHER_SEPAY = "other-sepay-key-0003"
REFERENCE = "FT26340111122233"


@pytest.fixture(autouse=True)
def _parent_bank(settings: object) -> None:
    # The parent's own bank transfers, from its environment: never the child's.
    settings.PANEL_BANK_BIN = "970436"  # type: ignore[attr-defined]
    settings.PANEL_BANK_ACCOUNT = PARENT_ACCOUNT  # type: ignore[attr-defined]
    settings.PANEL_TRANSFER_PREFIX = "NAP"  # type: ignore[attr-defined]
    settings.PANEL_SEPAY_API_KEY = PARENT_SEPAY  # type: ignore[attr-defined]
    settings.PANEL_CASSO_CHECKSUM_KEY = PARENT_CASSO  # type: ignore[attr-defined]
    settings.PANEL_VND_RATE = "25000"  # type: ignore[attr-defined]


def _set_payments(child: ChildPanel, account: str, *, sepay: str, casso: str = "") -> None:
    child_panel_payments_set(
        owner=child.owner,
        child_panel_id=child.pk,
        bank_bin="970422",
        account_number=account,
        holder="NGUYEN VAN CHU",
        transfer_prefix="SHOP",
        keys={"sepay_api_key": sepay, "casso_checksum_key": casso},
    )


@pytest.fixture
def paying_child(child: ChildPanel) -> ChildPanel:
    _set_payments(child, CHILD_ACCOUNT, sepay=CHILD_SEPAY, casso=CHILD_CASSO)
    return child


def _sepay(memo: str, *, account: str = CHILD_ACCOUNT, transfer_id: int = 501) -> dict:
    return sepay_body(
        transfer_id=transfer_id,
        amount=250000,
        content=f"{memo} chuyen tien",
        accountNumber=account,
        referenceCode=REFERENCE,
        transactionDate="2026-12-06 09:01:02",
    )


def _casso(memo: str, *, account: str = CHILD_ACCOUNT) -> dict:
    body = casso_body(transfer_id=9001, amount=250000, description=f"{memo} chuyen tien")
    body["data"].update(
        accountNumber=account, reference=REFERENCE, transactionDateTime="2026-12-06 09:01:09"
    )
    return body


def _post_sepay(client: Client, body: dict, *, key: str, host: str = CHILD_HOST) -> int:
    return post_sepay(client, body, key=key, HTTP_HOST=host).status_code  # type: ignore[attr-defined]


def test_his_webhook_credits_his_customer_once_replayed_and_reported_twice(
    client: Client, paying_child: ChildPanel, owner: User
) -> None:
    carol = child_customer(paying_child, "carol")
    owner_before = owner.balance

    # when: SePay reports the transfer on his host, again (a replay), then Casso reports it
    assert _post_sepay(client, _sepay(f"SHOP{carol.pk}"), key=CHILD_SEPAY) == 200
    assert _post_sepay(client, _sepay(f"SHOP{carol.pk}"), key=CHILD_SEPAY) == 200
    body = _casso(f"SHOP{carol.pk}")
    casso = post_casso(
        client, body, signature=casso_signature(body, key=CHILD_CASSO), HTTP_HOST=CHILD_HOST
    )
    assert casso.status_code == 200  # type: ignore[attr-defined]

    # then: one deposit, his panel's, credited once to carol at 25,000 VND a dollar
    deposit = Deposit.objects.get()
    assert deposit.child_panel_id == paying_child.pk
    assert deposit.status == Deposit.Status.CREDITED and deposit.user_id == carol.pk
    assert TransferReport.objects.get().deposit_id == deposit.pk
    carol.refresh_from_db(), owner.refresh_from_db()
    assert carol.balance == Decimal(10)
    assert list(
        BalanceTransaction.objects.exclude(user=owner).values_list("user_id", "kind", "amount")
    ) == [(carol.pk, "deposit", Decimal(10))]
    # and the owner's balance, and every parent's ledger, are untouched
    assert owner.balance == owner_before


def test_the_parents_key_another_panels_key_or_a_wrong_key_credit_nothing_on_his_host(
    client: Client, paying_child: ChildPanel, other_child: ChildPanel
) -> None:
    _set_payments(other_child, OTHER_ACCOUNT, sepay=OTHER_SEPAY)
    carol = child_customer(paying_child, "carol")
    for key in (PARENT_SEPAY, OTHER_SEPAY, "guessed-key"):
        assert _post_sepay(client, _sepay(f"SHOP{carol.pk}"), key=key) == 401
    body = _casso(f"SHOP{carol.pk}")
    signed_by_parent = casso_signature(body, key=PARENT_CASSO)
    assert (
        post_casso(client, body, signature=signed_by_parent, HTTP_HOST=CHILD_HOST).status_code
        == 401
    )  # type: ignore[attr-defined]
    # his key on the other panel's host: that panel's keys decide there
    assert _post_sepay(client, _sepay(f"SHOP{carol.pk}"), key=CHILD_SEPAY, host=OTHER_HOST) == 401
    assert not Deposit.objects.exists()
    assert not BalanceTransaction.objects.filter(kind="deposit", user__username="carol").exists()


def test_the_parents_webhook_cannot_credit_a_child_customer_nor_his_a_parent_customer(
    client: Client, paying_child: ChildPanel
) -> None:
    carol = child_customer(paying_child, "carol")
    bob = UserFactory(username="bob")

    # the parent's webhook, the parent's key, a memo naming the child's customer
    parent_body = _sepay(f"NAP{carol.pk}", account=PARENT_ACCOUNT, transfer_id=1)
    assert post_sepay(client, parent_body, key=PARENT_SEPAY).status_code == 200  # type: ignore[attr-defined]
    # his key on the parent's host
    assert post_sepay(client, _sepay(f"SHOP{carol.pk}"), key=CHILD_SEPAY).status_code == 401  # type: ignore[attr-defined]
    # his webhook, his key, a memo naming the parent's customer
    assert _post_sepay(client, _sepay(f"SHOP{bob.pk}", transfer_id=2), key=CHILD_SEPAY) == 200
    # a transfer into the parent's account reported on his host is not his
    parents_account = _sepay(f"SHOP{carol.pk}", account=PARENT_ACCOUNT, transfer_id=3)
    assert _post_sepay(client, parents_account, key=CHILD_SEPAY) == 400

    parent_deposit = Deposit.objects.get(child_panel=None)
    child_deposit = Deposit.objects.get(child_panel=paying_child)
    assert parent_deposit.status == child_deposit.status == Deposit.Status.UNMATCHED
    assert parent_deposit.user_id is child_deposit.user_id is None
    assert not BalanceTransaction.objects.filter(user__in=[carol, bob]).exists()


def test_the_parents_queue_names_the_panel_whose_account_each_transfer_reached(
    client: Client, paying_child: ChildPanel
) -> None:
    assert (
        post_sepay(
            client, _sepay("nap parent", account=PARENT_ACCOUNT, transfer_id=1), key=PARENT_SEPAY
        ).status_code
        == 200
    )  # type: ignore[attr-defined]
    assert _post_sepay(client, _sepay("nap child", transfer_id=2), key=CHILD_SEPAY) == 200
    client.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))

    rows = {
        memo: row
        for row in client.get("/admin/payments/unmatcheddeposit/").content.decode().split("<tr")
        for memo in ("nap parent", "nap child")
        if memo in row
    }
    assert CHILD_HOST in rows["nap child"] and CHILD_HOST not in rows["nap parent"]
    assert "This panel" in rows["nap parent"]
    # the queue narrows to the children's transfers, or to the parent's own
    only_children = client.get("/admin/payments/unmatcheddeposit/?panel=child")
    assert "nap child" in only_children.content.decode()
    assert "nap parent" not in only_children.content.decode()
    deposits = client.get("/admin/payments/deposit/?panel=own").content.decode()
    assert "nap parent" in deposits and "nap child" not in deposits


def test_an_unmatched_transfer_waits_in_his_queue_and_he_credits_it_to_his_customer(
    client: Client, paying_child: ChildPanel, owner: User
) -> None:
    carol = child_customer(paying_child, "carol")
    parent_customer = UserFactory(username="carol-at-parent")
    assert _post_sepay(client, _sepay("tien nap"), key=CHILD_SEPAY) == 200
    deposit = Deposit.objects.get()
    assert deposit.status == Deposit.Status.UNMATCHED

    # his page shows it; the parent's admin queue has it too
    client.force_login(owner)
    page = client.get("/child-panels/").content.decode()
    assert "tien nap" in page and f'name="deposit" value="{deposit.pk}"' in page
    operator = UserFactory(username="operator", is_staff=True, is_superuser=True)
    client.force_login(operator)
    queue = client.get("/admin/payments/unmatcheddeposit/").content.decode()
    assert f"/{deposit.pk}/assign/" in queue and "tien nap" in queue
    client.force_login(owner)

    # the parent's customer cannot be given his panel's money, even by name on his panel
    refused = client.post(
        f"/child-panels/{paying_child.pk}/assign/",
        {"deposit": deposit.pk, "username": parent_customer.username},
    )
    assert refused.status_code == 302
    assert Deposit.objects.get().status == Deposit.Status.UNMATCHED
    client.post(
        f"/child-panels/{paying_child.pk}/assign/", {"deposit": deposit.pk, "username": "carol"}
    )
    deposit.refresh_from_db(), carol.refresh_from_db()
    assert deposit.status == Deposit.Status.CREDITED and carol.balance == Decimal(10)
    line = BalanceTransaction.objects.get(user=carol)
    assert (line.user_id, line.created_by_id) == (carol.pk, owner.pk)


def test_his_add_funds_page_shows_his_account_and_his_memo(
    client: Client, paying_child: ChildPanel
) -> None:
    carol = child_customer(paying_child, "carol")
    client.force_login(carol)
    page = client.get("/add-funds/", HTTP_HOST=CHILD_HOST)
    assert page.status_code == 200
    text = page.content.decode()
    assert CHILD_ACCOUNT in text and f"SHOP{carol.pk}" in text
    assert PARENT_ACCOUNT not in text and f"NAP{carol.pk}" not in text
    assert "bank-coupon" not in text  # the parent's coupons are not his
    home = client.get("/", HTTP_HOST=CHILD_HOST, follow=True).content.decode()
    assert 'href="/add-funds/"' in home


def test_without_his_settings_his_customers_still_ask_him(
    client: Client, child: ChildPanel
) -> None:
    carol = child_customer(child, "carol")
    client.force_login(carol)
    assert client.get("/add-funds/", HTTP_HOST=CHILD_HOST).status_code == 404
    assert (
        'href="/add-funds/"'
        not in client.get("/", HTTP_HOST=CHILD_HOST, follow=True).content.decode()
    )


def test_his_settings_are_saved_from_his_page_encrypted_and_shown_masked(
    client: Client, child: ChildPanel, owner: User
) -> None:
    client.force_login(owner)
    form = {
        "bank_bin": "970422",
        "account_number": CHILD_ACCOUNT,
        "holder": "Nguyen Van Chu",
        "transfer_prefix": "shop",
        "sepay_api_key": CHILD_SEPAY,
        "casso_checksum_key": "",
    }
    assert client.post(f"/child-panels/{child.pk}/payments/", form).status_code == 302
    row = GatewaySettings.objects.get(child_panel=child, method=Method.BANK)
    assert CHILD_SEPAY not in row.secrets_encrypted
    assert row.secrets == {"sepay_api_key": CHILD_SEPAY} and row.transfer_prefix == "SHOP"
    page = client.get("/child-panels/").content.decode()
    assert CHILD_SEPAY not in page and CHILD_SEPAY[-4:] in page
    # an empty key keeps the stored one
    assert client.post(f"/child-panels/{child.pk}/payments/", form | {"sepay_api_key": ""})
    assert GatewaySettings.objects.get(pk=row.pk).secrets == {"sepay_api_key": CHILD_SEPAY}
    # the parent's own settings row is none of his
    assert not GatewaySettings.objects.filter(child_panel=None).exists()

    # someone else's panel: refused, nothing saved
    intruder = UserFactory(username="intruder")
    client.force_login(intruder)
    client.post(f"/child-panels/{child.pk}/payments/", form | {"sepay_api_key": "mine-now"})
    assert GatewaySettings.objects.get(pk=row.pk).secrets == {"sepay_api_key": CHILD_SEPAY}


def test_a_settings_form_with_no_key_at_all_is_refused(client: Client, child: ChildPanel) -> None:
    client.force_login(child.owner)
    form = {"bank_bin": "970422", "account_number": CHILD_ACCOUNT, "transfer_prefix": "SHOP"}
    client.post(f"/child-panels/{child.pk}/payments/", form)
    assert not GatewaySettings.objects.exists()


def test_a_suspended_panel_still_credits_what_its_customers_already_sent(
    client: Client, paying_child: ChildPanel
) -> None:
    from panel.child_panels.services import child_panel_move

    carol = child_customer(paying_child, "carol")
    child_panel_move(child_panel_id=paying_child.pk, to="suspended")
    client.force_login(carol)
    assert client.get("/add-funds/", HTTP_HOST=CHILD_HOST).status_code == 503
    assert _post_sepay(client, _sepay(f"SHOP{carol.pk}"), key=CHILD_SEPAY) == 200
    carol.refresh_from_db()
    assert carol.balance == Decimal(10)
