"""Vietnamese and English: the catalog, the switcher and where the choice is kept, pages that
speak the reader's language, and the API that never does (docs/protocol.md)."""

import importlib.util
import json
import re
from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone, translation
from django.views.defaults import server_error

from accounts.models import User
from accounts.services import api_key_create
from core.money import amount_text, money_text, number_text
from orders.lifecycle import By, Finish, Kind, finish
from orders.lifecycle.events import Actor
from orders.models import DispatchState, Order, OrderStatus, ProductOrder, ProductOrderStatus
from orders.services import order_place, product_order_place, refill_request
from providers.models import CatalogChange, ServiceType
from support.models import OrderRequest, Ticket, TicketKind
from support.services import ticket_answer, ticket_open
from tests.factories import CategoryFactory, ProductFactory, ServiceFactory, UserFactory
from tests.support import order_finalize, unused_pk, with_form_token

CATALOG = Path(settings.BASE_DIR) / "locale" / "vi" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOG.with_suffix(".mo")
COOKIE = settings.LANGUAGE_COOKIE_NAME


def _key(entry: polib.POEntry | polib.MOEntry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


def _translation(entry: polib.POEntry | polib.MOEntry) -> object:
    return entry.msgstr_plural and dict(entry.msgstr_plural) or entry.msgstr


# --- The catalog ------------------------------------------------------------------------------


def test_vietnamese_catalog_has_no_untranslated_or_fuzzy_entry() -> None:
    catalog = polib.pofile(str(CATALOG))

    pending = [entry.msgid for entry in catalog if not entry.obsolete and not entry.translated()]

    assert pending == [], "translate these (scripts/messages.py todo lists them)"
    assert catalog.metadata["Plural-Forms"] == "nplurals=1; plural=0;"


def test_compiled_catalog_matches_the_po_file() -> None:
    # The .mo is committed so a fresh clone speaks Vietnamese without gettext installed.
    source = {
        _key(entry): _translation(entry)
        for entry in polib.pofile(str(CATALOG))
        if entry.translated() and not entry.obsolete
    }
    compiled = {
        _key(entry): _translation(entry) for entry in polib.mofile(str(COMPILED)) if entry.msgid
    }

    assert compiled == source, "stale .mo: run `make messages` (or scripts/messages.py compile)"


# --- Every customer page in Vietnamese --------------------------------------------------------


class _VisibleText(HTMLParser):
    """Text a reader sees: text nodes and the attributes browsers show (placeholders, titles,
    the table labels phones show), without scripts, styles and code samples."""

    SKIPPED = {"script", "style", "code", "pre"}
    SHOWN_ATTRIBUTES = {"placeholder", "title", "aria-label", "data-label", "alt"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self.skipping += 1
        self.parts += [value for name, value in attrs if name in self.SHOWN_ATTRIBUTES and value]
        if tag == "input" and dict(attrs).get("type") == "submit":
            self.parts.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    text = " ".join(" ".join(parser.parts).split())
    # Service types are the protocol's names (docs/protocol.md): shown as they are.
    for service_type in sorted(ServiceType.values, key=len, reverse=True):
        text = text.replace(service_type, " ")
    return text


def _english_fragments() -> list[str]:
    """Pieces of the catalog's English that a Vietnamese page must not show: each msgid whose
    translation differs, cut at placeholders and tags, minus pieces the Vietnamese uses too."""
    entries = [entry for entry in polib.pofile(str(CATALOG)) if entry.translated()]
    vietnamese = " ".join(
        " ".join(entry.msgstr_plural.values()) if entry.msgstr_plural else entry.msgstr
        for entry in entries
    )
    fragments = set()
    for entry in entries:
        if entry.msgstr == entry.msgid:
            continue
        for piece in re.split(r"%\(\w+\)[sd]|\{\w+\}|<[^>]+>|&lt;|&gt;|%%", entry.msgid):
            piece = " ".join(piece.split()).strip(" .,:;()·–—#?!")
            if re.search(r"[A-Za-z]{2}", piece) and piece not in vietnamese:
                fragments.add(piece)
    return sorted(fragments)


def _english_on(text: str, fragments: list[str]) -> list[str]:
    return [
        piece for piece in fragments if re.search(rf"(?<![\w-]){re.escape(piece)}(?![\w-])", text)
    ]


@pytest.fixture
def vietnamese_customer(db: None) -> User:
    """A customer with something on every page: orders in several states, a refill, product
    orders, catalog changes, ledger movements and an API key; names that are not English."""
    user = UserFactory(username="lan", funds=Decimal("500"), language="vi")
    category = CategoryFactory(name="Instagram VN")
    service = ServiceFactory(
        name="Tăng theo dõi Instagram", category=category, description="Bắt đầu sau 1 giờ"
    )
    product = ProductFactory(
        name="Tài khoản Netflix", category=category, require="Tài khoản của bạn"
    )
    placed = [
        order_place(
            user=user,
            service_id=service.pk,
            fields={"link": f"https://instagram.com/p/{n}", "quantity": "1500"},
        )
        for n in range(4)
    ]
    for order in placed[:2]:  # at the provider, as the forward task leaves them
        Order.objects.filter(pk=order.pk).update(
            dispatch_state=DispatchState.SENT, upstream_id=str(order.pk)
        )
    order_finalize(
        order_id=placed[0].pk, status=OrderStatus.COMPLETED, actor=Actor.POLLER, remains=0
    )
    order_finalize(
        order_id=placed[1].pk, status=OrderStatus.PARTIAL, actor=Actor.POLLER, remains=500
    )
    refill_request(user=user, order_id=placed[0].pk)
    bought = product_order_place(
        user=user, product_id=product.pk, quantity="2", require="lan@example.com"
    )
    ProductOrder.objects.filter(pk=bought.pk).update(
        dispatch_state=DispatchState.SENT, upstream_id=str(bought.pk)
    )
    finish(
        Kind.PRODUCT_ORDER,
        bought.pk,
        Finish(status=ProductOrderStatus.CANCELED, note="Out of stock"),
        actor=By(Actor.POLLER),
    )
    product_order_place(user=user, product_id=product.pk, quantity="1", require="lan@example.com")
    CatalogChange.objects.create(
        provider=service.provider, service=service, kind=CatalogChange.Kind.ADDED
    )
    CatalogChange.objects.create(
        provider=service.provider,
        service=service,
        kind=CatalogChange.Kind.CHANGED,
        field="rate",
        old_value="2.5",
        new_value="2",
    )
    CatalogChange.objects.create(
        provider=service.provider,
        service=service,
        kind=CatalogChange.Kind.CHANGED,
        field="refill",
        old_value="no",
        new_value="yes",
    )
    api_key_create(user=user)
    ticket = ticket_open(
        user=user,
        kind=TicketKind.ORDER,
        request=OrderRequest.REFILL,
        order_ids=str(placed[0].pk),
        subject="Đơn bị tụt",
        message="Đơn của tôi bị tụt follow.",
    )
    staff = UserFactory(username="hotro", is_staff=True)
    ticket_answer(ticket_id=ticket.pk, admin=staff, body="Chúng tôi đã gửi bảo hành.")
    return user


CUSTOMER_PAGES = (
    "add_funds",
    "deposit_list",
    "two_factor",
    "ticket_list",
    "ticket_new",
    "dashboard",
    "order_new",
    "order_mass",
    "order_list",
    "refill_list",
    "product_list",
    "product_order_list",
    "services",
    "updates",
    "account",
    "balance_history",
    "affiliates",
    "api_docs",
    "password_change",
    "password_change_done",
)


def test_every_customer_page_in_vietnamese_shows_no_english_from_the_catalog(
    client: Client, vietnamese_customer: User
) -> None:
    fragments = _english_fragments()
    client.force_login(vietnamese_customer)
    first_order = Order.objects.filter(user=vietnamese_customer).order_by("id").first()
    urls = [reverse(name) for name in CUSTOMER_PAGES]
    urls += [
        reverse("order_detail", args=[first_order.pk]),
        reverse("order_list") + "?status=Partial",
        reverse("ticket_detail", args=[Ticket.objects.get(user=vietnamese_customer).pk]),
    ]

    english = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="vi">' in response.content.decode(), url
        if found := _english_on(visible_text(response.content.decode()), fragments):
            english[url] = found

    assert english == {}


def test_visitor_pages_in_vietnamese_show_no_english_from_the_catalog(
    client: Client, vietnamese_customer: User
) -> None:
    fragments = _english_fragments()
    client.cookies[COOKIE] = "vi"

    english = {}
    for name in (
        "home",
        "login",
        "signup",
        "password_reset",
        "services",
        "updates",
        "product_list",
        "api_docs",
    ):
        response = client.get(reverse(name))
        if found := _english_on(visible_text(response.content.decode()), fragments):
            english[name] = found
    missing = client.get("/no-such-page/")

    assert english == {}
    assert missing.status_code == 404
    assert "Không tìm thấy trang" in missing.content.decode()


def test_the_check_finds_english_left_on_a_page() -> None:
    fragments = _english_fragments()

    assert "Balance history" in _english_on("Số dư · Balance history", fragments)
    assert _english_on("Lịch sử số dư", fragments) == []


def test_order_form_errors_speak_vietnamese(client: Client, vietnamese_customer: User) -> None:
    service = ServiceFactory(name="Lượt xem", min=1000)
    client.force_login(vietnamese_customer)

    response = client.post(
        reverse("order_new"),
        with_form_token({"service": service.pk, "link": "https://x.com/a", "quantity": "5"}),
    )

    assert response.context["form"].errors == {"quantity": ["Số lượng tối thiểu là 1.000."]}


def test_messages_after_an_order_speak_vietnamese_with_vietnamese_money(
    client: Client, vietnamese_customer: User
) -> None:
    service = ServiceFactory(name="Lượt thích", rate=Decimal("1234.5"))
    client.force_login(vietnamese_customer)

    response = client.post(
        reverse("order_new"),
        with_form_token({"service": service.pk, "link": "https://x.com/a", "quantity": "100"}),
        follow=True,
    )

    order = Order.objects.filter(user=vietnamese_customer).latest("id")
    assert [str(m) for m in response.context["messages"]] == [
        f"Đã đặt đơn #{order.pk}: đã trừ 123,45 USD"
    ]


# --- The API keeps the protocol's English ------------------------------------------------------


def test_api_errors_stay_english_for_a_vietnamese_reseller(
    client: Client, vietnamese_customer: User
) -> None:
    key = api_key_create(user=vietnamese_customer)
    client.cookies[COOKIE] = "vi"

    bad_key = client.post("/api/v2", {"key": "nope", "action": "balance"})
    unknown = client.post(
        "/api/v2", {"key": key, "action": "status", "order": str(unused_pk(Order))}
    )
    too_few = client.post(
        "/api/v2",
        {
            "key": key,
            "action": "add",
            "service": ServiceFactory(min=100).pk,
            "link": "https://x.com/a",
            "quantity": "1",
        },
    )

    assert json.loads(bad_key.content) == {"error": "Invalid API key"}
    assert json.loads(unknown.content) == {"error": "Incorrect order ID"}
    assert json.loads(too_few.content) == {"error": "Quantity less than minimal 100"}


# --- The switcher and where the choice is kept --------------------------------------------------


def test_new_visitors_get_panel_language_whatever_their_browser_says(
    client: Client, db: None
) -> None:
    with override_settings(LANGUAGE_CODE="vi"):
        response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert '<html lang="vi">' in response.content.decode()
    assert "Đăng nhập" in response.content.decode()


def test_every_page_including_login_has_the_switcher(client: Client, customer: User) -> None:
    switcher = f'action="{reverse("set_language")}"'
    assert switcher in client.get(reverse("login")).content.decode()
    client.force_login(customer)
    for name in ("dashboard", "order_new", "api_docs", "account"):
        assert switcher in client.get(reverse(name)).content.decode(), name


def test_a_visitor_choice_lives_in_the_cookie_and_session_and_becomes_the_user_choice(
    client: Client, customer: User
) -> None:
    # given a visitor who picks Vietnamese on the login page
    response = client.post(reverse("set_language"), {"language": "vi", "next": reverse("login")})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.cookies[COOKIE].value == "vi"
    assert client.cookies[COOKIE]["max-age"] == 365 * 24 * 3600  # outlives the browser session
    assert "Đăng nhập" in client.get(reverse("login")).content.decode()

    # when they log in
    client.post(reverse("login"), {"username": "alice", "password": "pass12345"})

    # then the choice is theirs
    customer.refresh_from_db()
    assert customer.language == "vi"


def test_the_users_saved_language_applies_at_login_on_another_device(customer: User) -> None:
    User.objects.filter(pk=customer.pk).update(language="vi")
    device = Client()  # no cookie: a new phone

    response = device.post(
        reverse("login"), {"username": "alice", "password": "pass12345"}, follow=True
    )

    assert '<html lang="vi">' in response.content.decode()
    assert device.cookies[COOKIE].value == "vi"  # logging out keeps the user's language
    device.post(reverse("logout"))
    assert '<html lang="vi">' in device.get(reverse("login")).content.decode()


def test_a_logged_in_switch_is_saved_on_the_user_and_wins_over_an_old_cookie(
    client: Client, customer: User
) -> None:
    client.force_login(customer)
    client.cookies[COOKIE] = "en"

    client.post(reverse("set_language"), {"language": "vi", "next": reverse("dashboard")})
    customer.refresh_from_db()
    client.cookies[COOKIE] = "en"  # e.g. another tab's stale cookie

    assert customer.language == "vi"
    assert '<html lang="vi">' in client.get(reverse("dashboard")).content.decode()


def test_an_unknown_language_changes_nothing(client: Client, customer: User) -> None:
    client.force_login(customer)

    response = client.post(
        reverse("set_language"), {"language": "xx", "next": reverse("dashboard")}
    )

    customer.refresh_from_db()
    assert response.status_code == 302
    assert customer.language == ""
    assert '<html lang="en">' in client.get(reverse("dashboard")).content.decode()


def test_the_switcher_only_answers_post(client: Client, db: None) -> None:
    assert client.get(reverse("set_language"), {"language": "vi"}).status_code == 405


# --- Money and numbers follow the language; the currency decides the decimals -------------------


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        ("1234567", "VND", "vi", "1.234.567 ₫"),
        ("1234567", "VND", "en", "1,234,567 ₫"),
        ("1234.56", "USD", "en", "1,234.56 USD"),
        ("1234.56", "USD", "vi", "1.234,56 USD"),
        ("2.5", "USD", "en", "2.50 USD"),
        ("0.436625", "USD", "vi", "0,44 USD"),  # an amount rounds to the currency's places
        ("0.004", "USD", "en", "0.00 USD"),
        ("12.5", "VND", "vi", "13 ₫"),
        ("-2.5", "USD", "vi", "−2,50 USD"),
        ("0", "VND", "vi", "0 ₫"),
    ],
)
def test_money_text_groups_and_decimals_per_language_and_currency(
    amount: str, currency: str, language: str, expected: str
) -> None:
    assert money_text(Decimal(amount), currency=currency, language=language) == expected


@pytest.mark.parametrize(
    ("price", "currency", "language", "expected"),
    [
        ("0.27819", "USD", "en", "0.27819 USD"),  # a rate keeps every stored digit
        ("12.5", "VND", "vi", "12,5 ₫"),  # even where VND has no decimals
        ("2.5", "USD", "vi", "2,50 USD"),
    ],
)
def test_rates_keep_every_stored_digit(
    price: str, currency: str, language: str, expected: str
) -> None:
    assert money_text(Decimal(price), currency=currency, language=language, exact=True) == expected
    template = Template("{% load panel_format %}{{ price|rate:currency }}")
    with translation.override(language):
        assert template.render(Context({"price": Decimal(price), "currency": currency})) == expected


def test_amounts_carry_a_sign_when_asked_and_counts_are_grouped() -> None:
    assert amount_text(Decimal("0.25"), currency="USD", language="en", signed=True) == "+0.25"
    assert amount_text(Decimal("-3"), currency="VND", language="vi", signed=True) == "−3"
    assert number_text(10000, language="vi") == "10.000"
    assert number_text(10000, language="en") == "10,000"
    assert number_text(999, language="vi") == "999"


def test_template_filters_format_in_the_active_language() -> None:
    template = Template(
        "{% load panel_format %}{{ amount|money }}|{{ amount|amount }}|{{ count|number }}|{{ missing|money }}"
    )
    context = Context({"amount": Decimal("1234567"), "count": 2500, "missing": None})

    with override_settings(PANEL_CURRENCY="VND"), translation.override("vi"):
        vietnamese = template.render(context)
    with override_settings(PANEL_CURRENCY="USD"), translation.override("en"):
        english = template.render(context)

    assert vietnamese == "1.234.567 ₫|1.234.567|2.500|"
    assert english == "1,234,567.00 USD|1,234,567.00|2,500|"


@override_settings(PANEL_CURRENCY="VND")
def test_a_vnd_panel_shows_the_balance_without_decimals(client: Client, db: None) -> None:
    user = UserFactory(funds=Decimal("1234567"), language="vi")
    client.force_login(user)

    html = client.get(reverse("dashboard")).content.decode()

    assert "1.234.567 ₫" in html  # the top bar
    assert '<div class="value">1.234.567 <small class="muted">₫</small></div>' in html


def test_the_server_error_page_speaks_the_language_without_a_request_context(db: None) -> None:
    with translation.override("vi"):
        response = server_error(RequestFactory().get("/orders/"))

    assert response.status_code == 500
    assert "Đã xảy ra lỗi" in response.content.decode()


def test_make_run_writes_the_panel_language_and_adds_it_to_an_older_env(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "write_env", Path(settings.BASE_DIR) / "scripts" / "write_env.py"
    )
    write_env = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(write_env)
    older = tmp_path / ".env"
    older.write_text("SECRET_KEY=kept\n")

    added = write_env.add_missing(older, write_env.embedded_values(tmp_path))

    assert "PANEL_LANGUAGE" in added
    assert "PANEL_LANGUAGE=vi\n" in older.read_text()


def test_switching_on_a_page_answering_a_form_goes_back_to_the_page_that_sent_it(
    client: Client, customer: User
) -> None:
    client.force_login(customer)
    account = "http://testserver" + reverse("account")

    answer = client.post(reverse("api_key_generate"), HTTP_REFERER=account)

    assert f'name="next" value="{account}"' in answer.content.decode()


def test_dates_are_written_as_each_language_writes_them() -> None:
    """Issue 23: dd/mm/yyyy HH:mm in Vietnamese (Django's own is "H:i d-m-Y"), ISO in English."""
    moment = datetime(2026, 12, 6, 14, 30, tzinfo=timezone.get_current_timezone())
    template = Template('{{ moment|date:"SHORT_DATETIME_FORMAT" }}')
    with translation.override("vi"):
        assert template.render(Context({"moment": moment})) == "06/12/2026 14:30"
    with translation.override("en"):
        assert template.render(Context({"moment": moment})) == "2026-12-06 14:30"
