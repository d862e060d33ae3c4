"""Issue 23: the add-funds page on a phone, in Vietnamese: tabs switch between the bank accounts
in place, a quick amount fills the amount into that account's QR, the banking-app links show, and
"waiting for the money" turns into "received" when the webhook credits the transfer."""

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client, override_settings

from payments.models import BankAccount
from tests.browser_pages import CSP_LISTENER, csp_violations, log_in
from tests.factories import UserFactory
from tests.payments.senders import SEPAY_KEY, post_sepay, sepay_body

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@override_settings(
    LANGUAGE_CODE="vi",
    PANEL_CURRENCY="USD",
    PANEL_VND_RATE="25000",
    PANEL_TRANSFER_PREFIX="NAP",
    PANEL_SEPAY_API_KEY=SEPAY_KEY,
)
def test_a_phone_user_picks_an_account_and_an_amount_and_sees_the_money_arrive(
    chromium: Any, live_server: Any
) -> None:
    customer = UserFactory(username="lan", funds=Decimal("1"))
    BankAccount.objects.create(
        bank_bin="970436", account_number="0011001800879", holder="SMM PANEL CO"
    )
    mb = BankAccount.objects.create(
        bank_bin="970422", account_number="0901234567", holder="SMM PANEL CO", position=1
    )
    base = live_server.url
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    log_in(page, base, "lan")
    page.goto(f"{base}/add-funds/")

    # waiting for the money, in the reader's language
    assert "Đang chờ tiền về…" in page.locator("#deposit-waiting").inner_text()

    # the MB tab opens in place, and the amount form now names that account
    page.click(f"#tab-{mb.pk}")
    assert page.locator(f"#account-panel-{mb.pk}").is_visible()
    assert not page.locator("section.bank-panel").first.is_visible()
    assert page.input_value("#chosen-account") == str(mb.pk)

    # a quick amount puts 100K into MB's QR; the banking-app links show on a phone
    page.click(".quick-amounts [data-amount='100000']")
    page.wait_for_url(f"{base}/add-funds/?account={mb.pk}&amount=100000")
    panel = page.locator(f"#account-panel-{mb.pk}")
    assert "100.000 ₫" in panel.inner_text()
    assert panel.locator(".bank-apps").is_visible()
    assert f"/add-funds/qr/{mb.pk}.png?amount=100000" in (
        panel.locator("a.save-qr").get_attribute("href") or ""
    )

    # the transfer arrives: "waiting" becomes "received", the top bar follows
    post_sepay(
        Client(),
        sepay_body(
            transfer_id=41, amount=100000, content=f"NAP{customer.pk}", accountNumber="0901234567"
        ),
    )
    page.wait_for_selector("#deposit-done:not([hidden])", timeout=15000)
    assert page.locator("#deposit-done-text").inner_text() == (
        "Đã nhận 4,00 USD. Số dư hiện tại: 5,00 USD."
    )
    assert not page.locator("#deposit-waiting").is_visible()
    assert page.locator(".topbar .balance").inner_text().strip() == "5,00 USD"
    assert csp_violations(page) == []
    context.close()


def test_the_admin_finds_a_bank_by_code_or_unaccented_name(chromium: Any, live_server: Any) -> None:
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    context = chromium.new_context()
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    log_in(page, live_server.url, "boss")
    page.goto(f"{live_server.url}/admin/payments/bankaccount/add/")

    picked = {}
    for typed in ("vcb", "ngoai thuong", "quan doi", "970407"):
        page.fill(".bank-search", typed)
        picked[typed] = page.input_value("#id_bank_bin")

    assert picked == {
        "vcb": "970436",  # Vietcombank's code, before PVcomBank's PVCB
        "ngoai thuong": "970436",
        "quan doi": "970422",
        "970407": "970407",
    }
    assert csp_violations(page) == []
    context.close()
