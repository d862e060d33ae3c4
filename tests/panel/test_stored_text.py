"""What the panel stores to show later (ledger memos, order history notes, a product order's
note) is a code and its parameters, written in the reader's language when shown: a Vietnamese
page never shows the English it was once stored as (core.memos, docs/translating.md)."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from accounts.coupons import coupon_redeem
from accounts.memos import OPENING_BALANCE
from accounts.models import BalanceTransaction, Coupon, User
from accounts.services import balance_adjust, balance_credit
from core import memos
from core.db.partitions import current_period
from notifications.delivery import notifications_deliver
from orders.lifecycle.refunds import refund_credit
from orders.models import Order, OrderEvent, ProductOrder
from orders.services import order_cancel, order_place, product_order_place
from payments.models import BonusRule, Deposit
from payments.services import deposit_assign, deposit_create_manual
from tests.factories import ProductFactory, ServiceFactory, UserFactory

LEDGER_MIGRATION = importlib.import_module("accounts.migrations.0014_memo_codes_data")
EVENT_MIGRATION = importlib.import_module("orders.migrations.0012_memo_codes_data")

# The English each memo kind was stored as: none of it may reach a Vietnamese page.
ENGLISH_WORDING = (
    "Order ",
    "Product order",
    "Refund for",
    "Deposit:",
    "Bonus on",
    "Coupon ",
    "instead of",
    "Opening balance",
    "Placed",
    "Canceled before it was sent",
)


@pytest.fixture
def ledger_of_every_kind(db: None) -> User:
    """A Vietnamese customer with one ledger line of each kind the panel writes."""
    user = UserFactory(username="lan", language="vi")
    admin = UserFactory(username="quantri", is_staff=True, is_superuser=True, language="vi")
    balance_credit(user_id=user.pk, amount=Decimal("500"), memo=OPENING_BALANCE())
    BonusRule.objects.create(gateway="manual", min_amount=Decimal(1), percent=Decimal(10))
    deposit_create_manual(user_id=user.pk, amount=Decimal("100"), memo="tiền mặt", admin=admin)
    unmatched = Deposit.objects.create(
        gateway="sepay",
        external_id="tx-1",
        amount=Decimal("50"),
        currency="USD",
        received_amount=Decimal("50"),
        received_currency="USD",
        rate=Decimal(1),
        status=Deposit.Status.UNMATCHED,
    )
    deposit_assign(
        deposit_id=unmatched.pk,
        user_id=user.pk,
        admin=admin,
        credited_amount=Decimal("40"),
        reason="khách chuyển thiếu",
    )
    Coupon.objects.create(code="TET2026", bonus_percent=Decimal(5))
    coupon_redeem(code="TET2026", user_id=user.pk, deposit_amount=Decimal(100), deposit_key="k1")
    service = ServiceFactory(name="Lượt thích Facebook", rate=Decimal("10"))
    order = order_place(
        user=user, service_id=service.pk, fields={"link": "https://fb.com/a", "quantity": 100}
    )
    order_cancel(user=user, order_id=order.pk)
    product = ProductFactory(name="Tài khoản")
    product_order_place(user=user, product_id=product.pk, quantity=1, require="a@b.vn")
    balance_adjust(user_id=user.pk, amount=Decimal("-3"), memo="Bù lỗi đơn 12", created_by=admin)
    return user


def _memo_codes(user: User) -> set[str]:
    return set(BalanceTransaction.objects.filter(user=user).values_list("memo_code", flat=True))


def test_every_line_the_panel_writes_is_stored_as_a_code_not_as_english(
    ledger_of_every_kind: User,
) -> None:
    rows = BalanceTransaction.objects.filter(user=ledger_of_every_kind)

    assert _memo_codes(ledger_of_every_kind) >= {
        "opening_balance",
        "deposit",
        "deposit_bonus",
        "deposit_other_amount",
        "coupon_bonus",
        "order_charge",
        "order_refund",
        "product_order_charge",
    }
    # Only what a person typed is stored as text, and then without a code.
    assert sorted(row.memo for row in rows if row.memo) == ["Bù lỗi đơn 12"]
    assert all(memos.is_defined(row.memo_code) for row in rows if row.memo_code)


def test_the_balance_history_in_vietnamese_shows_every_memo_in_vietnamese(
    client: Client, ledger_of_every_kind: User
) -> None:
    order = Order.objects.get(user=ledger_of_every_kind)
    client.force_login(ledger_of_every_kind)

    page = client.get(reverse("balance_history")).content.decode()

    assert "Số dư ban đầu" in page
    assert "Nạp tiền: Thủ công (quản trị) #" in page
    assert "Thưởng nạp tiền: Thủ công (quản trị) #" in page
    assert "Nạp tiền: Chuyển khoản ngân hàng (SePay) #" in page
    assert "cộng 40,00 USD thay vì 50,00 USD: khách chuyển thiếu, quantri" in page
    assert "Mã khuyến mãi TET2026 cho lần nạp k1" in page
    assert f"Đơn #{order.pk}: Lượt thích Facebook" in page
    assert f"Hoàn tiền đơn #{order.pk} (Đã hủy)" in page
    assert "Đơn sản phẩm #" in page
    assert "Bù lỗi đơn 12" in page  # the admin's words, as typed
    assert [text for text in ENGLISH_WORDING if text in page] == []


def test_the_same_lines_read_in_english_for_an_english_reader(
    client: Client, ledger_of_every_kind: User
) -> None:
    User.objects.filter(pk=ledger_of_every_kind.pk).update(language="en")
    order = Order.objects.get(user=ledger_of_every_kind)
    client.force_login(ledger_of_every_kind)

    page = client.get(reverse("balance_history")).content.decode()

    assert f"Refund for order #{order.pk} (Canceled)" in page
    assert "Deposit: Manual (admin) #" in page
    assert "40.00 USD instead of 50.00 USD: khách chuyển thiếu, quantri" in page


def test_the_order_page_in_vietnamese_shows_its_history_notes_in_vietnamese(
    client: Client, ledger_of_every_kind: User
) -> None:
    order = Order.objects.get(user=ledger_of_every_kind)
    client.force_login(ledger_of_every_kind)

    page = client.get(reverse("order_detail", args=[order.pk])).content.decode()

    assert "Đã đặt" in page and "Đã hủy trước khi gửi đi" in page
    assert "Placed" not in page and "Canceled before it was sent" not in page
    assert set(OrderEvent.objects.filter(order=order).values_list("message", flat=True)) == {""}


def test_the_admin_change_pages_in_vietnamese_show_memos_and_notes_in_vietnamese(
    client: Client, ledger_of_every_kind: User
) -> None:
    order = Order.objects.get(user=ledger_of_every_kind)
    refund = BalanceTransaction.objects.get(order_id=order.pk, kind="refund")
    client.force_login(User.objects.get(username="quantri"))

    ledger_page = client.get(
        reverse("admin:accounts_balancetransaction_change", args=[refund.pk])
    ).content.decode()
    ledger_list = client.get(reverse("admin:accounts_balancetransaction_changelist"))
    order_page = client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert f"Hoàn tiền đơn #{order.pk} (Đã hủy)" in ledger_page
    assert "order_refund" not in ledger_page and "Refund for" not in ledger_page
    assert "Nạp tiền: Thủ công (quản trị) #" in ledger_list.content.decode()
    assert "Đã hủy trước khi gửi đi" in order_page.content.decode()
    assert "Canceled before it was sent" not in order_page.content.decode()


def test_a_product_order_rejected_by_the_provider_keeps_its_words_in_the_reader_language(
    db: None,
) -> None:
    note = EVENT_MIGRATION.parse_note("Rejected by the provider: out of stock")
    assert note == ("rejected", {"reason": "out of stock"})
    row = ProductOrder(note_code=note[0], note_params=note[1])

    with translation.override("vi"):
        assert row.note_text == "Nhà cung cấp từ chối: out of stock"
    assert ProductOrder(note="Key sent by email").note_text == "Key sent by email"


def test_a_refund_of_each_kind_names_its_row_and_status(db: None) -> None:
    with translation.override("vi"):
        for kind, words in (
            ("order", "Hoàn tiền đơn #7 (Hoàn một phần)"),
            ("product_order", "Hoàn tiền đơn sản phẩm #7 (Hoàn một phần)"),
            ("refill", "Hoàn tiền bảo hành #7 (Hoàn một phần)"),
        ):
            credit = refund_credit(
                kind=kind, row_id=7, user_id=1, amount=Decimal(1), status="Partial"
            )
            assert str(credit.memo) == words


def test_an_unknown_code_shows_its_stored_text_or_the_code_and_a_missing_parameter_nothing() -> (
    None
):
    assert memos.render("", {}, fallback="typed") == "typed"
    assert memos.render("from_a_newer_version", {}) == "from_a_newer_version"
    with translation.override("en"):
        assert memos.render("order_charge", {"id": 3}) == "Order #3: "


# --- The migration: every wording the panel ever stored ---------------------------------------

OLD_MEMOS = {
    "Opening balance": ("opening_balance", {}),
    "Order 12: Instagram Likes": ("order_charge", {"id": 12, "item": "Instagram Likes"}),
    "Order 12": ("order_charge", {"id": 12, "item": ""}),
    "Product order 5: Gmail account": ("product_order_charge", {"id": 5, "item": "Gmail account"}),
    "Refund for order 12 (partial)": ("order_refund", {"id": 12, "status": "Partial"}),
    "Refund for order 12 (canceled)": ("order_refund", {"id": 12, "status": "Canceled"}),
    "Refund for product order 5 (canceled)": (
        "product_order_refund",
        {"id": 5, "status": "Canceled"},
    ),
    "Refund for refill 9 (rejected)": ("refill_refund", {"id": 9, "status": "Rejected"}),
    "Deposit: Bank transfer (SePay) #4": ("deposit", {"gateway": "sepay", "id": 4}),
    "Deposit: Manual (admin) #8": ("deposit", {"gateway": "manual", "id": 8}),
    "Deposit: Card (Stripe) #6 (25 instead of 1: paid the rest by bank (admin))": (
        "deposit_other_amount",
        {
            "gateway": "stripe",
            "id": 6,
            "credited": "25",
            "arrived": "1",
            "reason": "paid the rest by bank",
            "admin": "admin",
        },
    ),
    "Deposit: Crypto (Cryptomus) #7 (30 instead of ?: no figures (root))": (
        "deposit_other_amount",
        {
            "gateway": "cryptomus",
            "id": 7,
            "credited": "30",
            "arrived": "?",
            "reason": "no figures",
            "admin": "root",
        },
    ),
    "Bonus on Bank transfer (Casso) #4": ("deposit_bonus", {"gateway": "casso", "id": 4}),
    "Coupon TET on deposit sepay:FT123": (
        "coupon_bonus",
        {"code": "TET", "deposit": "sepay:FT123"},
    ),
}


@pytest.mark.parametrize("memo", OLD_MEMOS)
def test_the_migration_reads_every_ledger_memo_the_panel_wrote(memo: str) -> None:
    parsed = LEDGER_MIGRATION.parse_memo(memo)

    assert parsed == OLD_MEMOS[memo]
    assert memos.is_defined(parsed[0])


@pytest.mark.parametrize("memo", ["bench", "test deposit", "Bù lỗi đơn 12", "Deposit: Paypal #3"])
def test_the_migration_leaves_a_persons_words_as_typed(memo: str) -> None:
    assert LEDGER_MIGRATION.parse_memo(memo) is None


def test_going_back_writes_the_old_english_wording() -> None:
    for memo in (
        "Order 12: Instagram Likes",
        "Refund for order 12 (partial)",
        "Deposit: Bank transfer (SePay) #4",
        "Coupon TET on deposit sepay:FT123",
    ):
        assert LEDGER_MIGRATION.english_memo(*LEDGER_MIGRATION.parse_memo(memo)) == memo
    for note in ("Completed (admin)", "Rejected by the provider: bad link", "Attempt 2"):
        assert EVENT_MIGRATION.english_note(*EVENT_MIGRATION.parse_note(note)) == note


OLD_NOTES = {
    "Placed": ("placed", {}),
    "Refill requested": ("refill_requested", {}),
    "Canceled before it was sent": ("canceled_before_sent", {}),
    "Cancel requested from the provider": ("cancel_requested", {}),
    "Cancel recorded: applied once the provider's answer to the add is known": (
        "cancel_held",
        {},
    ),
    "Completed (admin)": ("completed_by_admin", {}),
    "Partial (admin): 40 of 100 delivered": (
        "partial_by_admin_delivered",
        {"delivered": 40, "base": 100},
    ),
    "Partial (admin): the provider charged 1.25": ("partial_by_admin_charged", {"charge": "1.25"}),
    "Canceled by an admin after review": ("canceled_by_admin", {}),
    "Polling resumed by an admin": ("polling_resumed", {}),
    "Not at the provider: sent again by an admin": ("sent_again", {}),
    "Not at the provider (checked by an admin): sent again": ("sent_again", {}),
    "Settled by an admin after looking at the provider": ("cancel_settled_by_admin", {}),
    "Found at the provider as 991": ("found_at_provider", {"upstream_id": "991"}),
    "Rejected by the provider: Incorrect link": ("rejected", {"reason": "Incorrect link"}),
    "Rejected by the provider: the service's refill rule takes over": (
        "refill_rule_takes_over",
        {},
    ),
    "Rejected by Alpha: bad link; next route: Beta": (
        "rerouted",
        {"provider": "Alpha", "error": "bad link", "next": "Beta"},
    ),
    "Attempt 3": ("attempt", {"number": 3}),
    "Not sent, will retry: connection refused": ("will_retry", {"error": "connection refused"}),
    "Provider refused the panel's key: Invalid API key": (
        "key_refused",
        {"error": "Invalid API key"},
    ),
    "Outcome unknown, not resent: timeout": ("outcome_unknown", {"error": "timeout"}),
    "Unexpected error, not resent: KeyError('x')": ("unexpected_error", {"error": "KeyError('x')"}),
    "Waiting for the link's running order upstream: busy": ("link_busy", {"error": "busy"}),
    "Provider busy, waiting: slow down": ("provider_busy", {"error": "slow down"}),
    "Upstream id 123": ("upstream_id", {"upstream_id": "123"}),
    "Accepted": ("accepted", {}),
    "The provider answered with upstream id 5, which another row already has": (
        "upstream_id_taken",
        {"upstream_id": "5"},
    ),
    "The provider answered late with upstream id (none): it was bought": (
        "answered_late",
        {"upstream_id": "(none)"},
    ),
    "Not sent upstream: the order is Completed": ("cancel_not_sent", {"status": "Completed"}),
    "No answer was recorded: the worker stopped during the upstream call. Not resent.": (
        "worker_lost",
        {},
    ),
    "The provider keeps answering Incorrect order ID for upstream id 77": (
        "keeps_answering",
        {"answer": "Incorrect order ID", "upstream_id": "77"},
    ),
    "Partial without a charge from the provider: refund by hand": ("partial_no_figures", {}),
    "Replacement of refill 4 (order 9)": ("replacement_of", {"refill": 4, "order": 9}),
    "The refill could not be done: the missing quantity was refunded": ("refill_refunded", {}),
    "Canceled: the cancel came while it was being sent, and it never landed": (
        "canceled_never_landed",
        {},
    ),
}


@pytest.mark.parametrize("note", OLD_NOTES)
def test_the_migration_reads_every_history_note_the_panel_wrote(note: str) -> None:
    parsed = EVENT_MIGRATION.parse_note(note)

    assert parsed == OLD_NOTES[note]
    assert memos.is_defined(parsed[0])


def test_a_review_reason_stored_as_the_note_becomes_its_label(db: None) -> None:
    parsed = EVENT_MIGRATION.parse_note("worker_lost", field="dispatch")

    assert parsed == ("review_reason", {"reason": "worker_lost"})
    assert EVENT_MIGRATION.parse_note("Customer asked by phone") is None


def test_the_migration_rewrites_stored_rows_and_keeps_typed_words(customer: User) -> None:
    # given rows as the panel stored them before
    old = balance_credit(user_id=customer.pk, amount=Decimal(1), memo="Deposit: Card (Stripe) #6")
    typed = balance_credit(user_id=customer.pk, amount=Decimal(1), memo="goodwill")
    order = order_place(
        user=customer,
        service_id=ServiceFactory().pk,
        fields={"link": "https://x.com/a", "quantity": 100},
    )
    OrderEvent.objects.filter(order=order).update(message="Placed", message_code="")
    OrderEvent.objects.create(
        order=order, field="note", message="Demo history", actor="worker", period=current_period()
    )

    # when
    LEDGER_MIGRATION.forwards(apps, None)
    EVENT_MIGRATION.forwards(apps, None)

    # then
    old.refresh_from_db()
    typed.refresh_from_db()
    assert (old.memo, old.memo_code, old.memo_params) == (
        "",
        "deposit",
        {"gateway": "stripe", "id": 6},
    )
    assert (typed.memo, typed.memo_code) == ("goodwill", "")
    events = OrderEvent.objects.filter(order=order).order_by("id")
    assert [(e.message, e.message_code) for e in events] == [("", "placed"), ("", "")]
    LEDGER_MIGRATION.backwards(apps, None)
    old.refresh_from_db()
    assert (old.memo, old.memo_code) == ("Deposit: Card (Stripe) #6", "")


# --- Emails and operators' messages -----------------------------------------------------------


@override_settings(PANEL_PUBLIC_URL="https://panel.example")
def test_an_order_email_is_in_the_customers_language_with_a_link_to_the_order(
    db: None,
) -> None:
    user = UserFactory(username="mai", language="vi", funds=Decimal(100))
    order = order_place(
        user=user,
        service_id=ServiceFactory(name="Lượt xem").pk,
        fields={"link": "https://x.com/a", "quantity": 100},
    )
    order_cancel(user=user, order_id=order.pk)

    notifications_deliver()

    [message] = mail.outbox
    assert message.subject.startswith(f"Đơn {order.pk} đã bị hủy")
    assert f"https://panel.example/orders/{order.pk}/" in message.body
    assert "Xem đơn hàng:" in message.body and "See the order" not in message.body


@override_settings(PANEL_PUBLIC_URL="https://panel.example/")
def test_a_ticket_answer_email_links_to_the_ticket_in_english_for_an_english_reader(
    db: None,
) -> None:
    from support.services import ticket_answer, ticket_open

    user = UserFactory(username="tom", language="en")
    ticket = ticket_open(user=user, kind="other", subject="Slow", message="Order is slow")
    ticket_answer(ticket_id=ticket.pk, admin=UserFactory(is_staff=True), body="On it")

    notifications_deliver()

    [message] = mail.outbox
    assert message.subject.startswith(f"Your ticket {ticket.pk} has an answer")
    assert f"Read the answer: https://panel.example/support/{ticket.pk}/" in message.body


def test_without_the_panels_address_an_email_has_no_link(db: None) -> None:
    user = UserFactory(username="an", language="vi", funds=Decimal(100))
    order = order_place(
        user=user,
        service_id=ServiceFactory().pk,
        fields={"link": "https://x.com/a", "quantity": 100},
    )
    order_cancel(user=user, order_id=order.pk)

    notifications_deliver()

    assert "http" not in mail.outbox[0].body


@override_settings(
    LANGUAGE_CODE="vi", PANEL_TELEGRAM_BOT_TOKEN="123:abc", PANEL_TELEGRAM_CHAT_ID="42"
)
def test_the_operators_digest_is_written_in_the_panels_language(db: None) -> None:
    from notifications.digest import digest_text
    from notifications.models import Notification
    from notifications.services import needs_review_event, notifications_add

    notifications_add(
        events=[
            needs_review_event(
                event_id=1,
                target="order",
                target_id=5,
                message="",
                message_code="outcome_unknown",
                message_params={"error": "timeout"},
            )
        ]
    )

    text = digest_text(list(Notification.objects.all()))

    assert "🔎 Cần kiểm tra: 1" in text
    assert "Đơn hàng #5: Không rõ kết quả, không gửi lại: timeout" in text


# --- A deposit's reason and coupon note --------------------------------------------------------

DEPOSIT_MIGRATION = importlib.import_module("payments.migrations.0008_deposit_reason_codes_data")

OLD_REASONS = {
    "paid 1.00 USD for 25.000000 USD": (
        "paid_other_amount",
        {"paid": "1.00 USD", "asked": "25.000000 USD"},
    ),
    "below the minimum of 10000 VND": ("below_minimum", {"amount": "10000"}),
    "above the maximum of 50000000 VND": ("above_maximum", {"amount": "50000000"}),
    "paid after it was rejected (never paid (admin))": (
        "paid_after_rejected",
        {"before": {"code": "", "params": {}, "text": "never paid (admin)"}},
    ),
    "paid after it was rejected (paid 1 USD for 2 USD)": (
        "paid_after_rejected",
        {
            "before": {
                "code": "paid_other_amount",
                "params": {"paid": "1 USD", "asked": "2 USD"},
                "text": "",
            }
        },
    ),
}


@pytest.mark.parametrize("reason", OLD_REASONS)
def test_the_migration_reads_every_deposit_reason_with_figures(reason: str) -> None:
    parsed = DEPOSIT_MIGRATION.parse_reason(reason)

    assert parsed == OLD_REASONS[reason]
    assert memos.is_defined(parsed[0])
    assert DEPOSIT_MIGRATION.english(*parsed) == reason


def test_the_migration_reads_both_coupon_notes_and_leaves_catalog_ids_alone() -> None:
    assert DEPOSIT_MIGRATION.parse_coupon_note("Coupon TET: bonus 0.4") == (
        "coupon_applied",
        {"code": "TET", "bonus": "0.4"},
    )
    assert DEPOSIT_MIGRATION.parse_coupon_note(
        "Coupon TET not applied: This coupon has expired"
    ) == ("coupon_not_applied", {"code": "TET", "reason": "This coupon has expired"})
    assert DEPOSIT_MIGRATION.parse_reason("the memo names no customer") is None


def test_a_deposit_reason_and_coupon_note_read_in_vietnamese(db: None) -> None:
    deposit = Deposit(
        reason_code="paid_after_rejected",
        reason_params={"before": {"code": "", "params": {}, "text": "never paid"}},
        coupon_note_code="coupon_not_applied",
        coupon_note_params={"code": "TET", "reason": "This coupon has expired"},
    )

    with translation.override("vi"):
        assert deposit.reason_text.startswith("thanh toán sau khi đã bị từ chối (")
        assert "never paid" not in deposit.reason_text
        assert deposit.coupon_note_text == (
            "Mã khuyến mãi TET không được áp dụng: Mã khuyến mãi này đã hết hạn"
        )


@override_settings(PANEL_PUBLIC_URL="https://panel.example")
def test_a_customers_telegram_message_links_to_its_order_in_their_language(db: None) -> None:
    from notifications.emails import telegram_text
    from notifications.models import Kind, Notification

    user = UserFactory(username="vy", language="vi")
    row = Notification(
        kind=Kind.ORDER_FINAL, payload={"order_id": 42, "status": "Completed", "refund": "0"}
    )

    text = telegram_text(row, user)

    assert "Xem đơn hàng: https://panel.example/orders/42/" in text
