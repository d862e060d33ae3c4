"""The password pages and the reset mail in the panel's own words, in the reader's language
(Django's own Vietnamese for them is stiff: docs/translating.md)."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from accounts.models import User

pytestmark = pytest.mark.django_db
COOKIE = settings.LANGUAGE_COOKIE_NAME


def _messages(password: str, user: User | None = None) -> list[str]:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def test_password_rules_speak_the_panel_s_vietnamese(customer: User) -> None:
    with translation.override("vi"):
        short = _messages("12345")
        similar = _messages("alice#12", customer)
        helps = password_validation.password_validators_help_texts()

    assert "Mật khẩu quá ngắn: vui lòng dùng ít nhất 8 ký tự." in short
    assert "Mật khẩu không được chỉ có chữ số: hãy thêm chữ cái." in short
    assert "Mật khẩu này quá phổ biến, rất dễ bị đoán: vui lòng chọn mật khẩu khác." in short
    assert similar == ["Mật khẩu quá giống tên đăng nhập hoặc email của bạn."]
    assert "Ít nhất 8 ký tự." in helps
    assert not any("Nó phải" in text or "của bạn không được là" in text for text in short + helps)


def test_password_rules_in_english() -> None:
    with translation.override("en"):
        assert "The password is too short: use at least 8 characters." in _messages("12345")


def test_sign_up_in_vietnamese_says_why_a_password_is_refused(client: Client) -> None:
    client.cookies[COOKIE] = "vi"
    page = client.post(
        "/signup/",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "password1": "12345678",
            "password2": "12345678",
        },
    ).content.decode()

    assert "Mật khẩu không được chỉ có chữ số" in page
    assert "password" not in re.sub(r"<[^>]+>", "", page).lower().replace("password1", "")


def test_the_reset_mail_is_the_panel_s_own_in_the_account_s_language(
    client: Client, customer: User, settings: object
) -> None:
    settings.PANEL_NAME = "Sub Nhanh"  # type: ignore[attr-defined]
    customer.language = "vi"
    customer.save(update_fields=["language"])

    client.post("/password/reset/", {"email": customer.email})  # an English visitor asks

    sent = mail.outbox[0]
    assert sent.subject == "Đặt lại mật khẩu trên Sub Nhanh"
    assert sent.body.startswith("Xin chào alice,")
    assert "Link chỉ dùng được một lần, trong vòng 72 giờ." in sent.body
    link = re.search(r"http://testserver(/password/reset/\S+/\S+/)", sent.body)
    assert link and client.get(link.group(1), follow=True).status_code == 200


def test_the_reset_mail_in_english(client: Client, customer: User) -> None:
    customer.language = "en"
    customer.save(update_fields=["language"])

    client.post("/password/reset/", {"email": customer.email})

    sent = mail.outbox[0]
    assert sent.subject == f"Reset your password on {settings.PANEL_NAME}"
    assert "The link works once, for 72 hours." in sent.body
    assert "If you did not ask for it, ignore this email" in sent.body


def test_the_new_password_and_change_forms_use_the_panel_s_words(
    client: Client, customer: User
) -> None:
    client.cookies[COOKIE] = "vi"
    client.post("/password/reset/", {"email": customer.email})
    link = re.search(r"http://testserver(/\S+)", mail.outbox[0].body).group(1)  # type: ignore[union-attr]
    form_page = client.get(link, follow=True)
    reset = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-pass-77", "new_password2": "another-pass-77"},
    ).content.decode()

    assert "Nhập lại mật khẩu mới" in reset and "Hai mật khẩu không khớp." in reset

    client.force_login(customer)
    customer.language = "vi"
    customer.save(update_fields=["language"])
    change = client.post(
        "/account/password/",
        {"old_password": "wrong", "new_password1": "x", "new_password2": "x"},
    ).content.decode()

    assert "Mật khẩu hiện tại" in change
    assert "Mật khẩu hiện tại không đúng. Vui lòng nhập lại." in change
    assert "Xác nhận mật khẩu mới" not in change  # Django's own label
