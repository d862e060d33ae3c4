"""Customer pages (add funds, deposits, the status endpoint) and the admin's payment pages."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import BalanceTransaction, User
from payments.gateways import GATEWAYS
from payments.models import Deposit, GatewaySettings, Method
from tests.payments.senders import post_sepay, sepay_body

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("bank")
def test_add_funds_shows_the_qr_and_the_customers_memo(client: Client, customer: User) -> None:
    client.force_login(customer)
    page = client.get("/add-funds/?amount=250000").content.decode()
    assert f"NAP{customer.pk}" in page
    assert "<svg" in page and "0011001800879" in page and "250,000 ₫" in page
    assert "payments/add-funds.js" in page


def test_add_funds_without_a_configured_gateway_offers_nothing(
    client: Client, customer: User
) -> None:
    client.force_login(customer)
    page = client.get("/add-funds/").content.decode()
    assert "No payment method is available" in page
    assert "<svg" not in page


@pytest.mark.usefixtures("bank")
def test_status_endpoint_reports_the_new_deposit(client: Client, customer: User) -> None:
    client.force_login(customer)
    before = client.get("/add-funds/status/").json()
    post_sepay(Client(), sepay_body(transfer_id=1, amount=100000, content=f"NAP{customer.pk}"))
    after = client.get("/add-funds/status/").json()
    assert before["last_deposit_id"] == 0
    assert after["last_deposit_id"] == Deposit.objects.get().pk
    assert after["balance"] == "104.00"
    assert after["balance_text"] == "104.00 USD"


@pytest.mark.usefixtures("bank")
def test_status_endpoint_writes_the_balance_as_the_top_bar_does(
    client: Client, customer: User
) -> None:
    customer.language = "vi"
    customer.save(update_fields=["language"])
    client.force_login(customer)
    client.cookies["django_language"] = "vi"
    post_sepay(Client(), sepay_body(transfer_id=2, amount=100000000, content=f"NAP{customer.pk}"))

    assert client.get("/add-funds/status/").json()["balance_text"] == "4.100,00 USD"


@pytest.mark.usefixtures("bank")
def test_add_funds_names_the_exchange_rate_ty_gia_in_vietnamese(
    client: Client, customer: User
) -> None:
    client.force_login(customer)
    client.cookies["django_language"] = "vi"

    assert "Tỷ giá: 25.000 VND = 1 USD" in client.get("/add-funds/").content.decode()


@pytest.mark.usefixtures("bank")
def test_add_funds_coupon_heading_and_its_field_read_differently_in_vietnamese(
    client: Client, customer: User
) -> None:
    client.force_login(customer)
    client.cookies["django_language"] = "vi"

    page = client.get("/add-funds/").content.decode()

    # The coupon section's heading, then its field: each says what it is.
    headings = re.findall(r"<h3>([^<]*)</h3>", page)
    label = re.search(r'<label for="id_coupon_bank">([^<]*)</label>', page)
    assert label is not None
    assert "Mã khuyến mãi" in headings
    assert label.group(1) == "Nhập mã khuyến mãi"


@pytest.mark.usefixtures("bank")
def test_deposits_page_lists_only_the_customers_deposits(
    client: Client, customer: User, reseller: User
) -> None:
    post_sepay(client, sepay_body(transfer_id=1, amount=100000, content=f"NAP{customer.pk}"))
    post_sepay(client, sepay_body(transfer_id=2, amount=200000, content=f"NAP{reseller.pk}"))
    client.force_login(customer)
    page = client.get("/deposits/").content.decode()
    assert "100,000 ₫" in page and "200,000 ₫" not in page


def test_pages_need_a_login(client: Client) -> None:
    for url in ("/add-funds/", "/deposits/", "/add-funds/status/"):
        assert client.get(url).status_code == 302


def test_admin_add_funds_records_a_manual_deposit(
    client: Client, customer: User, staff: User
) -> None:
    client.force_login(staff)
    response = client.post(
        f"/admin/accounts/user/{customer.pk}/adjust-balance/",
        {"amount": "12.5", "kind": "deposit", "memo": "paid cash"},
    )
    assert response.status_code == 302
    deposit = Deposit.objects.get(gateway="manual")
    assert (deposit.status, deposit.credited_amount, deposit.created_by) == (
        "credited",
        Decimal("12.5"),
        staff,
    )
    entry = BalanceTransaction.objects.get(deposit_id=deposit.pk)
    assert entry.created_by == staff and entry.kind == "deposit"


def test_gateway_settings_keep_credentials_encrypted_and_write_only(
    client: Client, staff: User
) -> None:
    client.force_login(staff)
    form = {
        "method": Method.STRIPE,
        "is_enabled": "on",
        "currency": "USD",
        "rate": "1",
        "secret_key": "sk_live_secret",
        "webhook_secret": "whsec_secret",
    }
    assert client.post("/admin/payments/gatewaysettings/add/", form).status_code == 302
    row = GatewaySettings.objects.get()
    assert "sk_live_secret" not in row.secrets_encrypted
    assert row.secrets == {"secret_key": "sk_live_secret", "webhook_secret": "whsec_secret"}
    page = client.get(f"/admin/payments/gatewaysettings/{row.pk}/change/").content.decode()
    assert "sk_live_secret" not in page and "Set; leave empty to keep it." in page
    # saving again with the secret fields empty keeps them
    client.post(
        f"/admin/payments/gatewaysettings/{row.pk}/change/",
        {**form, "secret_key": "", "webhook_secret": ""},
    )
    row.refresh_from_db()
    assert row.secrets["secret_key"] == "sk_live_secret"


def test_gateway_api_base_cannot_be_pointed_elsewhere_from_the_admin(
    client: Client, settings: object
) -> None:
    """Staff who may change gateway settings once could set the API base URL, and the next
    payment sent the write-only Stripe secret key to their server."""
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    # given: staff with exactly "view" and "change gateway settings", and a row from before,
    # when the admin still stored a base URL among the secrets
    settings.PANEL_STRIPE_API_BASE = ""
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.set(
        Permission.objects.filter(codename__in=["view_gatewaysettings", "change_gatewaysettings"])
    )
    row = GatewaySettings(method=Method.STRIPE, currency="USD", rate=Decimal(1))
    row.secrets = {
        "secret_key": "sk_live_1",
        "webhook_secret": "whsec_1",
        "api_base": "https://evil.example",
    }
    row.save()
    client.force_login(clerk)
    url = f"/admin/payments/gatewaysettings/{row.pk}/change/"
    form = {"method": Method.STRIPE, "is_enabled": "on", "currency": "USD", "rate": "1"}

    # when
    page = client.get(url).content.decode()
    response = client.post(url, {**form, "api_base": "https://evil.example/v2"})

    # then: no field for it, the posted value is ignored, the stale one is dropped
    assert response.status_code == 302
    assert 'name="api_base"' not in page
    row.refresh_from_db()
    assert row.secrets == {"secret_key": "sk_live_1", "webhook_secret": "whsec_1"}
    assert GATEWAYS["stripe"].api_base() == "https://api.stripe.com"


def test_gateway_api_base_comes_from_the_environment_only(settings: object) -> None:
    row = GatewaySettings(method=Method.CRYPTOMUS, currency="USD", rate=Decimal(1))
    row.secrets = {"merchant_id": "m", "payment_key": "k", "api_base": "https://evil.example"}
    row.save()
    settings.PANEL_CRYPTOMUS_API_BASE = ""
    assert GATEWAYS["cryptomus"].api_base() == "https://api.cryptomus.com"
    settings.PANEL_CRYPTOMUS_API_BASE = "http://127.0.0.1:8025"
    assert GATEWAYS["cryptomus"].api_base() == "http://127.0.0.1:8025"


@pytest.mark.parametrize(
    "url",
    [
        "/admin/payments/deposit/",
        "/admin/payments/deposit/?status__exact=credited&gateway__exact=sepay",
        "/admin/payments/unmatcheddeposit/",
        "/admin/payments/gatewaysettings/",
        "/admin/payments/gatewaysettings/add/",
        "/admin/payments/bonusrule/",
        "/admin/payments/bonusrule/add/",
    ],
)
def test_admin_payment_pages_render(client: Client, staff: User, url: str) -> None:
    client.force_login(staff)
    assert client.get(url).status_code == 200


def test_admin_rejects_abandoned_pending_deposits(
    client: Client, customer: User, staff: User
) -> None:
    pending = Deposit.objects.create(
        user=customer,
        gateway="stripe",
        amount=Decimal(5),
        currency="USD",
        rate=Decimal(1),
        status="pending",
    )
    client.force_login(staff)
    client.post(
        "/admin/payments/deposit/",
        {"action": "reject_abandoned", "_selected_action": [pending.pk]},
    )
    pending.refresh_from_db()
    assert pending.status == "rejected" and "never paid" in pending.reason


@pytest.mark.usefixtures("bank")
def test_staff_who_may_only_view_cannot_assign_a_deposit(client: Client, customer: User) -> None:
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    post_sepay(client, sepay_body(transfer_id=3, amount=100000, content="no memo"))
    deposit = Deposit.objects.get()
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(viewer)
    response = client.post(
        f"/admin/payments/unmatcheddeposit/{deposit.pk}/assign/", {"username": customer.username}
    )
    assert response.status_code == 403
    deposit.refresh_from_db()
    assert deposit.status == "unmatched"


def test_a_saved_methods_page_shows_only_its_own_credentials(client: Client, staff: User) -> None:
    client.force_login(staff)
    form = {"method": Method.STRIPE, "is_enabled": "on", "currency": "USD", "rate": "1"}
    assert client.post("/admin/payments/gatewaysettings/add/", form).status_code == 302
    row = GatewaySettings.objects.get()

    page = client.get(f"/admin/payments/gatewaysettings/{row.pk}/change/").content.decode()

    assert 'name="secret_key"' in page and 'name="webhook_secret"' in page
    for other in ("payment_key", "merchant_id", "sepay_api_key", "casso_checksum_key"):
        assert f'name="{other}"' not in page


@pytest.mark.usefixtures("bank")
def test_the_decide_page_writes_amounts_as_the_reader_reads_numbers(
    client: Client, staff: User
) -> None:
    post_sepay(Client(), sepay_body(transfer_id=7301, amount=120000, content="CK tien nap panel"))
    deposit = Deposit.objects.get(status=Deposit.Status.UNMATCHED)
    client.force_login(staff)
    url = f"/admin/payments/unmatcheddeposit/{deposit.pk}/assign/"

    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.cookies["django_language"] = "vi"
    vietnamese = client.get(url).content.decode()

    assert "120,000 ₫" in english and "4.80 USD" in english
    assert "120.000 ₫" in vietnamese and "4,80 USD" in vietnamese


@pytest.mark.usefixtures("bank")
def test_a_stored_reason_reads_in_the_readers_language(client: Client, staff: User) -> None:
    post_sepay(Client(), sepay_body(transfer_id=7302, amount=120000, content="CK tien nap"))
    deposit = Deposit.objects.get(status=Deposit.Status.UNMATCHED)
    assert deposit.reason == "the memo names no customer"  # stored as data: the catalog id
    client.force_login(staff)
    client.cookies["django_language"] = "vi"

    decide = client.get(f"/admin/payments/unmatcheddeposit/{deposit.pk}/assign/").content.decode()
    change = client.get(f"/admin/payments/deposit/{deposit.pk}/change/").content.decode()

    for page in (decide, change):
        assert "nội dung chuyển khoản không ghi mã khách hàng nào" in page
        assert "the memo names no customer" not in page
