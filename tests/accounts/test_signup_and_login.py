"""Sign-up with email confirmation, password reset, login throttling and TOTP two-factor."""

import re
import time

import pyotp
import pytest
from django.core import mail
from django.test import Client

from accounts.models import TwoFactorDevice, User
from accounts.two_factor import two_factor_begin, two_factor_confirm
from core.secrets import decrypt_secret

pytestmark = pytest.mark.django_db
SIGNUP = {
    "username": "newbie",
    "email": "newbie@example.com",
    "password1": "a-long-pass-phrase-9",
    "password2": "a-long-pass-phrase-9",
}


def _link(body: str) -> str:
    return re.search(r"http://testserver(/\S+)", body).group(1)


def test_sign_up_sends_a_link_that_activates_the_account_once(
    client: Client, django_capture_on_commit_callbacks: object
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/signup/", SIGNUP)
    # then
    assert response.status_code == 200 and "newbie@example.com" in response.content.decode()
    user = User.objects.get(username="newbie")
    assert not user.is_active
    link = _link(mail.outbox[0].body)
    assert client.get(link).status_code == 302
    assert User.objects.get(pk=user.pk).is_active
    assert Client().get(link).status_code == 400  # used once


def test_sign_up_without_confirmation_logs_in_at_once(client: Client, settings: object) -> None:
    settings.PANEL_REQUIRE_EMAIL_CONFIRMATION = False
    response = client.post("/signup/", SIGNUP)
    assert response.status_code == 302
    assert User.objects.get(username="newbie").is_active
    assert client.get("/dashboard/").status_code == 200
    assert mail.outbox == []


def test_sign_up_refuses_weak_passwords_and_taken_names(client: Client, customer: User) -> None:
    weak = client.post("/signup/", {**SIGNUP, "password1": "123", "password2": "123"})
    assert weak.status_code == 200 and not User.objects.filter(username="newbie").exists()
    taken = client.post("/signup/", {**SIGNUP, "username": "ALICE"})
    assert "This username is taken." in taken.content.decode()


def test_confirmation_link_with_a_bad_token_is_refused(client: Client) -> None:
    assert client.get("/signup/confirm/MQ/bad-token/").status_code == 400


def test_password_reset_by_email(client: Client, customer: User) -> None:
    client.post("/password/reset/", {"email": customer.email})
    link = _link(mail.outbox[0].body)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-pass-77", "new_password2": "brand-new-pass-77"},
    )
    assert Client().login(username="alice", password="brand-new-pass-77")


def test_login_is_throttled_per_username_without_telling_if_it_exists(
    client: Client, customer: User, settings: object
) -> None:
    settings.PANEL_LOGIN_FAILURES = 3
    for name in ("alice", "nobody"):
        for _ in range(3):
            client.post(
                "/login/",
                {"username": name, "password": "wrong"},
                REMOTE_ADDR=f"10.0.0.{len(name)}",
            )
        locked = client.post(
            "/login/",
            {"username": name, "password": "pass12345" if name == "alice" else "x"},
            REMOTE_ADDR="10.9.9.9",
        )
        assert "Too many failed attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_is_throttled_per_address(client: Client, customer: User, settings: object) -> None:
    settings.PANEL_LOGIN_FAILURES = 3
    for index in range(3):
        client.post(
            "/login/", {"username": f"guess{index}", "password": "x"}, REMOTE_ADDR="10.1.1.1"
        )
    locked = client.post(
        "/login/", {"username": "alice", "password": "pass12345"}, REMOTE_ADDR="10.1.1.1"
    )
    assert "Too many failed attempts" in locked.content.decode()


def test_admin_login_goes_through_the_throttled_login(
    client: Client, staff: User, settings: object
) -> None:
    settings.PANEL_LOGIN_FAILURES = 2
    for _ in range(2):
        client.post("/admin/login/", {"username": "admin", "password": "wrong"})
    locked = client.post(
        "/admin/login/?next=/admin/", {"username": "admin", "password": "pass12345"}
    )
    assert "Too many failed attempts" in locked.content.decode()


def _enrol(user: User) -> tuple[str, list[str]]:
    secret = two_factor_begin(user=user)
    codes = two_factor_confirm(user=user, code=pyotp.TOTP(secret).now())
    return secret, codes


def _code_after_enrolment(secret: str) -> str:
    # The enrolment spent the current step: the next login uses the following one.
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_two_factor_login_asks_for_a_code(client: Client, customer: User) -> None:
    secret, _ = _enrol(customer)
    response = client.post("/login/", {"username": "alice", "password": "pass12345"})
    assert response["Location"] == "/login/verify/"
    assert "_auth_user_id" not in client.session
    assert "not valid" in client.post("/login/verify/", {"code": "000000"}).content.decode()
    assert client.post("/login/verify/", {"code": _code_after_enrolment(secret)}).status_code == 302
    assert client.session["_auth_user_id"] == str(customer.pk)


def test_a_recovery_code_works_once(client: Client, customer: User) -> None:
    _, codes = _enrol(customer)
    client.post("/login/", {"username": "alice", "password": "pass12345"})
    assert client.post("/login/verify/", {"code": codes[0]}).status_code == 302
    second = Client()
    second.post("/login/", {"username": "alice", "password": "pass12345"})
    assert second.post("/login/verify/", {"code": codes[0]}).status_code == 200


def test_enrolment_page_shows_a_qr_and_turns_two_factor_on(client: Client, customer: User) -> None:
    client.force_login(customer)
    page = client.get("/account/2fa/").content.decode()
    assert "<svg" in page
    secret = decrypt_secret(TwoFactorDevice.objects.get(user=customer).secret_encrypted)
    assert secret in page
    done = client.post("/account/2fa/", {"code": pyotp.TOTP(secret).now()}).content.decode()
    assert "recovery codes" in done
    assert TwoFactorDevice.objects.get(user=customer).is_confirmed


def test_staff_without_two_factor_cannot_reach_the_admin(
    client: Client, staff: User, settings: object
) -> None:
    settings.PANEL_STAFF_2FA = True
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == "/account/2fa/"
    _enrol(staff)
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    "url", ["/signup/", "/password/reset/", "/login/", "/password/reset/sent/"]
)
def test_auth_pages_render(client: Client, url: str) -> None:
    assert client.get(url).status_code == 200


def test_a_wrong_login_says_only_the_password_minds_case(client: Client, customer: User) -> None:
    page = client.post(
        "/login/", {"username": customer.username.upper(), "password": "wrong"}
    ).content.decode()

    assert "The password is case-sensitive." in page
    assert "both fields may be case-sensitive" not in page
