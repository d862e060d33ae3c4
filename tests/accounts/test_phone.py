"""The customer's optional phone/Zalo number: asked at sign-up, edited on the account page,
shown to staff in the admin."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.services import user_set_phone
from core.errors import InvalidRequest
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SIGNUP = {
    "username": "newbie",
    "email": "newbie@example.com",
    "password1": "a-long-pass-phrase-9",
    "password2": "a-long-pass-phrase-9",
}


@pytest.fixture(autouse=True)
def _no_confirmation(settings: object) -> None:
    settings.PANEL_REQUIRE_EMAIL_CONFIRMATION = False  # type: ignore[attr-defined]


def test_sign_up_keeps_a_phone_in_its_national_form(client: Client) -> None:
    response = client.post(reverse("signup"), {**SIGNUP, "phone": "+84 912 345 678"})
    assert response.status_code == 302
    assert User.objects.get(username="newbie").phone == "0912345678"


def test_sign_up_without_a_phone_is_fine(client: Client) -> None:
    assert client.post(reverse("signup"), {**SIGNUP, "phone": ""}).status_code == 302
    client.logout()  # the sign-up logged in; the next one is another visitor
    assert (
        client.post(
            reverse("signup"), {**SIGNUP, "username": "other", "email": "o@example.com"}
        ).status_code
        == 302
    )
    assert list(User.objects.values_list("phone", flat=True)) == ["", ""]


@pytest.mark.parametrize("phone", ["12345", "0212345678", "+1 415 555 0100", "zalo me"])
def test_sign_up_refuses_a_phone_that_is_not_a_vietnamese_mobile(
    client: Client, phone: str
) -> None:
    response = client.post(reverse("signup"), {**SIGNUP, "phone": phone})
    assert response.status_code == 200
    assert "Enter a Vietnamese mobile number, e.g. 0912345678." in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()


def test_sign_up_asks_for_the_phone_in_vietnamese(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    page = client.get(reverse("signup")).content.decode()
    assert 'type="tel"' in page and 'autocomplete="tel"' in page
    assert "Số điện thoại / Zalo (không bắt buộc)" in page
    refused = client.post(reverse("signup"), {**SIGNUP, "phone": "123"}).content.decode()
    assert "Vui lòng nhập số di động Việt Nam, ví dụ 0912345678." in refused


def test_the_account_page_edits_and_removes_the_phone(client: Client, customer: User) -> None:
    client.force_login(customer)
    assert 'name="phone"' in client.get(reverse("account")).content.decode()

    saved = client.post(reverse("phone_save"), {"phone": "0369 123 456"})
    assert saved.status_code == 302
    customer.refresh_from_db()
    assert customer.phone == "0369123456"
    assert 'value="0369123456"' in client.get(reverse("account")).content.decode()

    refused = client.post(reverse("phone_save"), {"phone": "999"})
    assert refused.status_code == 400
    customer.refresh_from_db()
    assert customer.phone == "0369123456"

    client.post(reverse("phone_save"), {"phone": ""})
    customer.refresh_from_db()
    assert customer.phone == ""


def test_user_set_phone_refuses_a_bad_number(customer: User) -> None:
    with pytest.raises(InvalidRequest):
        user_set_phone(user=customer, phone="0212345678")


def test_staff_find_and_see_the_phone_in_the_admin(client: Client) -> None:
    lan = UserFactory(username="lan", phone="0912345678")
    UserFactory(username="minh", phone="0987654321")
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get(reverse("admin:accounts_user_changelist"), {"q": "0912345678"})
    assert list(listing.context["cl"].result_list) == [lan]
    change = client.get(reverse("admin:accounts_user_change", args=[lan.pk])).content.decode()
    assert 'name="phone" value="0912345678"' in change
