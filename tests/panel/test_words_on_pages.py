"""Words that need their own Vietnamese on the pages (issue 23): service-type badges, one English
word with two Vietnamese ones (pgettext contexts), the login's label."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from orders.services import order_place
from providers.models import SERVICE_TYPE_NAMES, ServiceType, service_type_name
from tests.factories import ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db
COOKIE = settings.LANGUAGE_COOKIE_NAME


@pytest.fixture
def lan(db: None) -> User:
    return UserFactory(username="lan", language="vi", funds=Decimal("100"))


def test_every_service_type_has_a_vietnamese_badge() -> None:
    with translation.override("vi"):
        names = {value: service_type_name(value) for value in ServiceType.values}

    assert set(SERVICE_TYPE_NAMES) == set(ServiceType.values)
    assert names["Poll"] == "Bình chọn"
    assert names["Comment Likes"] == "Like bình luận"
    assert names["Subscriptions"] == "Theo bài đăng mới"
    # Only the acronym stays as it is.
    assert [value for value, name in names.items() if name == value] == ["SEO"]
    assert service_type_name("Something New") == "Something New"


def test_service_type_badges_read_vietnamese_on_the_services_page_and_order_form(
    client: Client, lan: User
) -> None:
    service = ServiceFactory(type=ServiceType.COMMENT_LIKES, name="Like bình luận Facebook")
    client.force_login(lan)

    services_page = client.get(reverse("services")).content.decode()
    order_page = client.get(reverse("order_new"), {"service": service.pk}).content.decode()
    options = client.get(
        reverse("order_service_options"), {"category": service.category_id}
    ).json()["services"]

    assert '<span class="badge info">Like bình luận</span>' in services_page
    assert '<span class="badge info">Like bình luận</span>' in order_page
    assert 'data-type="Comment Likes"' in order_page  # the script's key stays the protocol's
    assert 'data-type-label="Like bình luận"' in order_page
    assert options[0]["type"] == "Comment Likes" and options[0]["type_label"] == "Like bình luận"
    # The social account's name is not the login's.
    assert "Tên người dùng" in order_page


def test_one_english_word_two_vietnamese_words(client: Client, lan: User) -> None:
    client.force_login(lan)
    order = order_place(
        user=lan,
        service_id=str(ServiceFactory().pk),
        fields={"link": "https://x.com/a", "quantity": "100"},
    )

    detail = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    account = client.get(reverse("account")).content.decode()

    assert "<dt>Ngày đặt</dt>" in detail  # "Placed", the date
    assert "<dt>Tên đăng nhập</dt>" in account  # "Username", the login
    with translation.override("vi"):
        assert translation.pgettext("status", "Partial") == "Hoàn một phần"
        assert translation.pgettext("exchange rate", "Rate") == "Tỷ giá"
        assert translation.gettext("Rate") == "Giá"
        assert translation.pgettext("ledger kind", "Charge") == "Trừ tiền"
        assert translation.gettext("Charge") == "Thành tiền"
        assert translation.pgettext("sum of deposits", "Deposits") == "Tiền nạp"
        assert translation.gettext("Deposits") == "Lịch sử nạp tiền"
        assert translation.gettext("Placed") == "Đã đặt"
        assert translation.gettext("Credited") == "Đã cộng tiền"  # the status
        assert translation.pgettext("amount", "Credited") == "Được cộng"


def test_the_login_names_what_it_accepts(client: Client, db: None) -> None:
    client.cookies[COOKIE] = "vi"

    page = client.get(reverse("login")).content.decode()

    assert '<label for="id_username">Tên đăng nhập hoặc email</label>' in page
