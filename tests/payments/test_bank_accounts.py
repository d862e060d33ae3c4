"""The add-funds page as a phone user pays: the NAPAS bank list, the admin's bank accounts (one
tab and QR each), the QR as a PNG, the banking-app deeplinks, quick amounts and the minimum."""

import json
import re
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import User
from payments.banks import DATA, badge_svg, bank_for, banks
from payments.config import gateway_config
from payments.deeplinks import BANK_APPS, BankApp, deeplink
from payments.models import BankAccount, Deposit, GatewaySettings, Method
from payments.vietqr import build_payload, qr_png
from tests.payments.senders import post_sepay, sepay_body

pytestmark = pytest.mark.django_db
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def two_accounts(bank: None) -> tuple[BankAccount, BankAccount]:
    """Vietcombank first, MB second (the bank fixture's env account then steps aside)."""
    first = BankAccount.objects.create(
        bank_bin="970436", account_number="0011001800879", holder="SMM PANEL CO"
    )
    second = BankAccount.objects.create(
        bank_bin="970422", account_number="0901234567", holder="NGUYEN VAN A", position=1
    )
    return first, second


# The bank list


def test_the_bank_list_has_unique_six_digit_bins_each_with_names_code_and_colour() -> None:
    rows = json.loads(DATA.read_text(encoding="utf-8"))["banks"]
    bins = [row["bin"] for row in rows]
    assert len(bins) == len(set(bins)) == len(banks()) > 50
    for bank in banks():
        assert re.fullmatch(r"[0-9]{6}", bank.bin), bank
        assert bank.short_name and bank.name and re.fullmatch(r"[A-Za-z0-9 -]+", bank.code), bank
        assert re.fullmatch(r"#[0-9A-F]{6}", bank.colour), bank


def test_every_bank_has_a_badge_that_names_it() -> None:
    for bank in banks():
        badge = str(badge_svg(bank))
        assert badge.startswith('<svg class="bank-badge"') and f'fill="{bank.colour}"' in badge
        assert f">{bank.short_name if len(bank.short_name) <= 7 else bank.code}</text>" in badge
        assert 'style="' not in badge  # the content security policy refuses style attributes


@pytest.mark.parametrize(
    ("bank_bin", "short_name", "code"),
    [
        ("970436", "Vietcombank", "VCB"),
        ("970422", "MB Bank", "MB"),
        ("970415", "VietinBank", "ICB"),
        ("970418", "BIDV", "BIDV"),
        ("970407", "Techcombank", "TCB"),
        ("970405", "Agribank", "VBA"),
        ("970416", "ACB", "ACB"),
    ],
)
def test_the_common_banks_carry_the_codes_vietqr_deeplinks_use(
    bank_bin: str, short_name: str, code: str
) -> None:
    bank = bank_for(bank_bin)
    assert bank is not None and (bank.short_name, bank.code) == (short_name, code)


def test_a_bin_the_list_lacks_shows_the_bin_on_a_plain_badge() -> None:
    assert bank_for("123456") is None
    assert ">123456</text>" in str(badge_svg(None, bank_bin="123456"))


# The admin picks a bank


def test_the_admin_picks_the_bank_from_a_searchable_list(client: Client, staff: User) -> None:
    client.force_login(staff)
    page = client.get("/admin/payments/bankaccount/add/").content.decode()
    assert 'class="vTextField bank-search"' in page and "payments/bank-select.js" in page
    assert re.search(r'<option value="970436">Vietcombank \(VCB\) · Ngân hàng TMCP Ngoại', page)

    response = client.post(
        "/admin/payments/bankaccount/add/",
        {
            "bank_bin": "970422",
            "account_number": " 0901234567 ",
            "holder": "nguyen  van a",
            "is_active": "on",
            "position": "0",
        },
    )

    assert response.status_code == 302
    account = BankAccount.objects.get()
    assert (account.bank_bin, account.account_number, account.holder) == (
        "970422",
        "0901234567",
        "NGUYEN VAN A",
    )
    listing = client.get("/admin/payments/bankaccount/").content.decode()
    assert "MB Bank · Ngân hàng TMCP Quân đội" in listing and "bank-badge" in listing


def test_the_admin_cannot_type_a_bin_outside_the_list_or_a_spaced_number(
    client: Client, staff: User
) -> None:
    client.force_login(staff)
    data = {"bank_bin": "999999", "account_number": "12 34", "position": "0"}

    page = client.post("/admin/payments/bankaccount/add/", data).content.decode()

    assert "Select a valid choice" in page and "Letters and digits only" in page
    assert not BankAccount.objects.exists()


def test_a_bank_account_is_switched_off_never_deleted(
    client: Client, staff: User, two_accounts: tuple[BankAccount, BankAccount]
) -> None:
    client.force_login(staff)
    response = client.get(f"/admin/payments/bankaccount/{two_accounts[0].pk}/delete/")
    assert response.status_code == 403


# Several accounts, one tab each


def test_each_shown_account_gets_a_tab_with_its_own_qr_number_holder_and_bank(
    client: Client, customer: User, two_accounts: tuple[BankAccount, BankAccount]
) -> None:
    first, second = two_accounts
    client.force_login(customer)

    page = client.get("/add-funds/").content.decode()

    assert page.count('role="tab"') == 2 and page.count('class="bank-panel"') == 2
    assert page.count('class="segno"') == 2  # one VietQR per account
    for account, name in ((first, "Vietcombank"), (second, "MB Bank")):
        assert account.account_number in page and account.holder in page and name in page
        assert f'href="/add-funds/qr/{account.pk}.png"' in page
    assert (
        f'id="account-panel-{second.pk}" role="tabpanel" aria-labelledby="tab-{second.pk}" hidden'
        in page
    )
    assert "Chủ tài khoản" not in page and "Account holder" in page


def test_the_account_asked_for_is_the_open_tab(
    client: Client, customer: User, two_accounts: tuple[BankAccount, BankAccount]
) -> None:
    first, second = two_accounts
    client.force_login(customer)

    page = client.get(f"/add-funds/?account={second.pk}&amount=100000").content.decode()

    assert (
        f'id="account-panel-{first.pk}" role="tabpanel" aria-labelledby="tab-{first.pk}" hidden'
        in page
    )
    assert (
        f'id="account-panel-{second.pk}" role="tabpanel" aria-labelledby="tab-{second.pk}">' in page
    )
    assert f'name="account" value="{second.pk}"' in page


def test_a_switched_off_account_is_hidden_but_its_transfers_are_credited(
    client: Client, customer: User, two_accounts: tuple[BankAccount, BankAccount]
) -> None:
    first, second = two_accounts
    BankAccount.objects.filter(pk=second.pk).update(is_active=False)
    client.force_login(customer)

    page = client.get("/add-funds/").content.decode()
    post_sepay(
        Client(),
        sepay_body(
            transfer_id=7, amount=100000, content=f"NAP{customer.pk}", accountNumber="0901234567"
        ),
    )

    assert "0901234567" not in page and 'role="tab"' not in page
    assert Deposit.objects.get().status == Deposit.Status.CREDITED


def test_a_transfer_into_an_account_the_panel_does_not_have_is_refused(
    two_accounts: tuple[BankAccount, BankAccount],
) -> None:
    response = post_sepay(
        Client(), sepay_body(transfer_id=8, amount=100000, content="NAP1", accountNumber="555")
    )
    assert response.status_code == 400 and not Deposit.objects.exists()


def test_the_environment_account_stands_in_while_the_admin_has_none(bank: None) -> None:
    config = gateway_config(method=Method.BANK)
    assert [(a.key, a.bank_bin, a.number) for a in config.bank_accounts] == [
        ("env", "970436", "0011001800879")
    ]
    BankAccount.objects.create(bank_bin="970422", account_number="0901234567")
    config = gateway_config(method=Method.BANK)
    assert [a.number for a in config.bank_accounts] == ["0901234567"]
    assert config.receiving_numbers == {"0901234567"}


def test_migration_moves_the_settings_account_into_the_bank_accounts(
    transactional_db: None,
) -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        ("payments", "0008_deposit_reason_codes_data"),
        ("payments", "0009_bank_accounts"),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        old_settings = executor.loader.project_state(before).apps.get_model(
            "payments", "GatewaySettings"
        )
        old_settings.objects.create(
            method="bank", bank_bin="970415", bank_account="113366668888", bank_account_name="QUY"
        )
        executor = MigrationExecutor(connection)
        executor.migrate([after])
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    account = BankAccount.objects.get()
    assert (account.bank_bin, account.account_number, account.holder) == (
        "970415",
        "113366668888",
        "QUY",
    )
    GatewaySettings.objects.all().delete()
    BankAccount.objects.all().delete()


# Quick amounts and the limits


def test_quick_amounts_put_the_amount_in_the_qr_for_the_open_tab(
    client: Client, customer: User, two_accounts: tuple[BankAccount, BankAccount]
) -> None:
    first, _second = two_accounts
    client.force_login(customer)

    page = client.get("/add-funds/").content.decode()
    chosen = client.get(f"/add-funds/?amount=200000&account={first.pk}").content.decode()

    labels = re.findall(r'data-amount="(\d+)">(\w+)</a>', page)
    assert labels == [("50000", "50K"), ("100000", "100K"), ("200000", "200K"), ("500000", "500K")]
    assert f'href="?amount=50000&amp;account={first.pk}"' in page
    assert 'class="chip active" href="?amount=200000' in chosen
    assert "200,000 ₫" in chosen and ">200000</span>" in chosen  # shown, and copied as digits
    assert f"/add-funds/qr/{first.pk}.png?amount=200000" in chosen


def test_the_minimum_is_shown_and_quick_amounts_below_it_are_left_out(
    client: Client, customer: User, bank: None
) -> None:
    GatewaySettings.objects.create(method=Method.BANK, min_amount=Decimal(100000))
    client.force_login(customer)
    client.cookies["django_language"] = "vi"

    page = client.get("/add-funds/").content.decode()
    below = client.get("/add-funds/?amount=20000").content.decode()

    assert "Nạp tối thiểu: <strong>100.000 ₫</strong>" in page
    assert 'data-amount="50000"' not in page and 'data-amount="100000"' in page
    assert "Số tiền nạp tối thiểu là 100.000 ₫." in below
    assert "/add-funds/qr/env.png?amount" not in below  # the QR never asks for such an amount


# The QR as a PNG


def test_the_png_is_the_customers_own_qr_with_the_amount(
    client: Client, customer: User, two_accounts: tuple[BankAccount, BankAccount]
) -> None:
    _first, second = two_accounts
    client.force_login(customer)

    response = client.get(f"/add-funds/qr/{second.pk}.png?amount=100000")

    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(PNG_SIGNATURE)
    expected = build_payload(
        bank_bin="970422", account="0901234567", amount=Decimal(100000), memo=f"NAP{customer.pk}"
    )
    assert response.content == qr_png(expected)
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="vietqr-MB-NAP{customer.pk}-100000.png"'
    )


def test_the_png_never_carries_anyone_elses_memo(
    client: Client, customer: User, reseller: User, two_accounts: tuple[BankAccount, BankAccount]
) -> None:
    first, _second = two_accounts
    client.force_login(customer)

    response = client.get(f"/add-funds/qr/{first.pk}.png?memo=NAP{reseller.pk}&user={reseller.pk}")

    own = build_payload(
        bank_bin="970436", account="0011001800879", amount=None, memo=f"NAP{customer.pk}"
    )
    assert response.content == qr_png(own)
    assert f"NAP{reseller.pk}" not in response["Content-Disposition"]


def test_the_png_needs_a_login_and_a_shown_account(
    client: Client, customer: User, two_accounts: tuple[BankAccount, BankAccount]
) -> None:
    first, second = two_accounts
    assert client.get(f"/add-funds/qr/{first.pk}.png")["Location"].startswith("/login/")
    BankAccount.objects.filter(pk=second.pk).update(is_active=False)
    client.force_login(customer)
    assert client.get(f"/add-funds/qr/{second.pk}.png").status_code == 404
    assert client.get("/add-funds/qr/env.png").status_code == 404
    assert client.get("/add-funds/qr/99999.png").status_code == 404


def test_the_environment_account_has_its_png_too(
    client: Client, customer: User, bank: None
) -> None:
    client.force_login(customer)
    response = client.get("/add-funds/qr/env.png")
    assert response.status_code == 200 and response.content.startswith(PNG_SIGNATURE)


# Deeplinks


def test_a_deeplink_follows_vietqrs_documented_form() -> None:
    link = deeplink(
        BankApp("icb", "VietinBank iPay"),
        account="113366668888",
        bank_code="VCB",
        amount=Decimal(790000),
        memo="NAP 12",
        holder="NGUYEN VAN A",
    )
    assert link == (
        "https://dl.vietqr.io/pay?app=icb&am=790000&tn=NAP%2012"
        "&ba=113366668888@vcb&bn=NGUYEN%20VAN%20A"
    )


def test_a_deeplink_without_an_amount_or_holder_leaves_them_out() -> None:
    link = deeplink(
        BankApp("mb", "MB Bank"),
        account="2000",
        bank_code="MB",
        amount=None,
        memo="NAP7",
        holder="",
    )
    assert link == "https://dl.vietqr.io/pay?app=mb&tn=NAP7&ba=2000@mb"


def test_the_page_offers_every_common_app_with_the_transfer_filled_in(
    client: Client, customer: User, two_accounts: tuple[BankAccount, BankAccount]
) -> None:
    client.force_login(customer)
    page = client.get("/add-funds/?amount=100000").content.decode()
    memo = f"NAP{customer.pk}"
    for app in BANK_APPS:
        assert (
            f"https://dl.vietqr.io/pay?app={app.app_id}&amp;am=100000&amp;tn={memo}"
            f"&amp;ba=0011001800879@vcb&amp;bn=SMM%20PANEL%20CO"
        ) in page
        assert "ba=0901234567@mb&amp;bn=NGUYEN%20VAN%20A" in page
    assert 'class="bank-apps"' in page


# Waiting and received


def test_the_page_waits_and_the_status_says_what_arrived(
    client: Client, customer: User, two_accounts: tuple[BankAccount, BankAccount]
) -> None:
    customer.language = "vi"
    customer.save(update_fields=["language"])
    client.force_login(customer)
    client.cookies["django_language"] = "vi"

    page = client.get("/add-funds/").content.decode()
    post_sepay(Client(), sepay_body(transfer_id=3, amount=250000, content=f"NAP{customer.pk}"))
    status = client.get("/add-funds/status/").json()

    assert "Đang chờ tiền về…" in page
    assert 'data-done-text="Đã nhận %(amount)s. Số dư hiện tại: %(balance)s."' in page
    assert status["credited_text"] == "10,00 USD" and status["balance_text"] == "110,00 USD"
