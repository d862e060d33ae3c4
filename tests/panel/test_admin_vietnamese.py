"""The admin in Vietnamese: every registered changelist, add and change page answers, and none
shows the English of our own app, model, field, choice, action or column names, nor any other
English the catalog translates (docs/translating.md)."""

import re
from collections.abc import Iterable
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.text import capfirst

from accounts.coupons import coupon_create
from accounts.models import PricingTier, User
from operatorapi.urls import ENDPOINTS
from tests.factories import UserFactory
from tests.panel.test_languages import (  # noqa: F401 - the fixture is used by name
    _english_fragments,
    _english_on,
    _VisibleText,
    vietnamese_customer,
)

# Django's own apps keep Django's words (its catalog, with our overrides in panel/admin_words).
OURS = {
    "accounts",
    "affiliates",
    "bot",
    "notifications",
    "operatorapi",
    "orders",
    "panel",
    "payments",
    "providers",
    "reconciliation",
    "support",
}


# Stored words the admin shows as they were written: ledger memos a person typed (the panel's own
# are codes, rendered in the reader's language: tests/panel/test_stored_text.py) and the raw
# payload of an outbox row.
# The bank list's options are banks' own names ("BacA Bank"), the same in every language.
STORED = {"field-memo", "field-memo_shown", "field-payload", "field-bank_bin"}
# The operator API's action names are its protocol (docs/admin-api.md), the same in every language.
PROTOCOL_WORDS = {endpoint.action for endpoint in ENDPOINTS}


class _AdminText(_VisibleText):
    """Visible text without the cells of stored words."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "input", "meta", "link", "hr", "col", "wbr", "source"):
            return super().handle_starttag(tag, attrs)
        stored = bool(STORED & set((dict(attrs).get("class") or "").split()))
        self.stack.append(stored)
        if stored:
            self.skipping += 1
        super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        super().handle_endtag(tag)
        if tag in ("br", "img", "input", "meta", "link", "hr", "col", "wbr", "source"):
            return
        if self.stack and self.stack.pop():
            self.skipping -= 1


def admin_text(html: str) -> str:
    parser = _AdminText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _registered() -> list[tuple[type[Model], admin.ModelAdmin]]:
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _names_of(model: type[Model], model_admin: admin.ModelAdmin) -> Iterable[object]:
    """Every name the admin may print for a model: its own, its fields', their help and
    choices, its actions and computed columns."""
    opts = model._meta
    yield opts.verbose_name
    yield opts.verbose_name_plural
    yield opts.app_config.verbose_name
    for field in opts.get_fields():
        if not (field.concrete or field.many_to_many) or field.auto_created:
            continue
        yield field.verbose_name
        yield field.help_text
        for _value, label in getattr(field, "flatchoices", None) or ():
            yield label
    for _function, _name, description in model_admin._get_base_actions():
        yield description
    for column in model_admin.list_display:
        yield getattr(getattr(model_admin, str(column), None), "short_description", None)


def _english_names() -> list[str]:
    """The English of our names that Vietnamese writes differently, as the admin shows them
    (capitalised in headings and columns, as written in sentences)."""
    lazy = [
        name
        for model, model_admin in _registered()
        if model._meta.app_label in OURS
        for name in _names_of(model, model_admin)
        if isinstance(name, Promise)
    ]
    with translation.override("en"):
        english = [str(name) for name in lazy]
    with translation.override("vi"):
        vietnamese = [str(name) for name in lazy]
    names = set()
    for en, vi in zip(english, vietnamese, strict=True):
        if en.lower() != vi.lower() and re.search(r"[A-Za-z]{3}", en):
            names |= {capfirst(en), en}
    return sorted(names)


def _admin_urls(user: User) -> list[str]:
    """Each registered model's changelist, its add page where adding is allowed, and the
    change page of its first row."""
    request = RequestFactory().get("/admin/")
    request.user = user
    urls = []
    for model, model_admin in _registered():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{info}_changelist"))
        if model_admin.has_add_permission(request):
            urls.append(reverse(f"{info}_add"))
        row = model_admin.get_queryset(request).order_by("pk").first()
        if row is not None:
            try:
                urls.append(reverse(f"{info}_change", args=[row.pk]))
            except NoReverseMatch:  # pragma: no cover - every admin keeps Django's change URL
                continue
    return urls


@pytest.fixture
def vietnamese_admin(vietnamese_customer: User) -> User:  # noqa: F811 - the imported fixture
    """A superuser reading in Vietnamese, with a row behind most of the admin's models."""
    coupon_create(
        code="TET2026",
        bonus_percent=Decimal(10),
        bonus_amount=Decimal(0),
        min_deposit=Decimal(50),
        max_uses=100,
        max_uses_per_user=1,
        expires_at=None,
    )
    PricingTier.objects.create(
        name="Reseller", name_vi="Đại lý", threshold=Decimal(1000), percent_off=Decimal(5)
    )
    return UserFactory(username="quantri", is_staff=True, is_superuser=True, language="vi")


def test_every_admin_page_in_vietnamese_shows_none_of_our_english(
    client: Client, vietnamese_admin: User
) -> None:
    # given
    names, fragments = _english_names(), _english_fragments()
    client.force_login(vietnamese_admin)
    urls = _admin_urls(vietnamese_admin)

    # when
    answers, english = {}, {}
    for url in urls:
        response = client.get(url)
        answers[url] = response.status_code
        if response.status_code != 200:
            continue
        text = admin_text(response.content.decode())
        for word in sorted(PROTOCOL_WORDS, key=len, reverse=True):
            text = text.replace(word, " ")
        if found := sorted(set(_english_on(text, names)) | set(_english_on(text, fragments))):
            english[url] = found

    # then
    assert {url: code for url, code in answers.items() if code != 200} == {}
    assert english == {}, "\n".join(f"{url}: {found}" for url, found in english.items())
    # The pages operators live on were reached, not only the lists.
    changed = {url.split("/")[2:4][1] for url in urls if url.endswith("/change/")}
    assert {"order", "productorder", "refill", "user", "ticket", "provider", "service"} <= changed


def test_the_admin_index_speaks_vietnamese(client: Client, vietnamese_admin: User) -> None:
    client.force_login(vietnamese_admin)

    page = admin_text(client.get(reverse("admin:index")).content.decode())

    assert "Quản trị SMM panel" in page
    assert "Đơn hàng" in page and "Nhà cung cấp" in page and "Chuyên mục" in page


def test_the_order_changelist_title_names_the_order_in_vietnamese(
    client: Client, vietnamese_admin: User
) -> None:
    client.force_login(vietnamese_admin)

    page = admin_text(client.get(reverse("admin:orders_order_changelist")).content.decode())

    assert "Chọn đơn hàng để thay đổi" in page or "Chọn đơn hàng để xem" in page


def test_the_english_names_check_sees_an_untranslated_name() -> None:
    names = _english_names()

    assert "Balance after" in names and "balance transaction" in names
    assert "Balance after" in _english_on("Số dư · Balance after", names)
    assert _english_on("Số dư sau", names) == []
