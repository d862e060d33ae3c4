"""With PANEL_STAFF_2FA, a staff key acts only for an owner with two-factor on: none is created
for an owner without it (service, admin, command), and an owner's keys stop while it is off."""

from typing import Any

import pyotp
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from accounts.two_factor import two_factor_begin, two_factor_confirm, two_factor_disable
from operatorapi.models import ApiCall, StaffApiKey
from operatorapi.services import OwnerWithoutTwoFactor, staff_api_key_create
from tests.operatorapi.conftest import Api, key_for, staff_user

pytestmark = pytest.mark.django_db

REFUSAL = "The owner must turn on two-factor authentication first: a key acts as its owner."


@pytest.fixture(autouse=True)
def _staff_two_factor(settings: Any) -> None:
    settings.PANEL_STAFF_2FA = True


def _enrol(user: User) -> list[str]:
    """Two-factor on for `user`; returns the recovery codes."""
    secret = two_factor_begin(user=user)
    return two_factor_confirm(user=user, code=pyotp.TOTP(secret).now())


def test_no_key_for_an_owner_without_two_factor_nor_with_an_unconfirmed_one() -> None:
    bob = staff_user(username="bob")
    with pytest.raises(OwnerWithoutTwoFactor):
        staff_api_key_create(owner=bob, created_by=bob, name="bot")
    secret = two_factor_begin(user=bob)  # the QR shown, no code typed yet
    with pytest.raises(OwnerWithoutTwoFactor):
        staff_api_key_create(owner=bob, created_by=bob, name="bot")
    assert not StaffApiKey.objects.exists()

    two_factor_confirm(user=bob, code=pyotp.TOTP(secret).now())

    row, _ = staff_api_key_create(owner=bob, created_by=bob, name="bot")
    assert row.user == bob


def test_a_superusers_key_for_staff_without_two_factor_is_refused_in_the_admin() -> None:
    # given: a superuser with two-factor on (the admin lets no one else in), and bob without
    root = staff_user(superuser=True, username="root")
    _enrol(root)
    bob = staff_user(username="bob")
    client = Client()
    client.force_login(root)
    client.cookies["django_language"] = "vi"

    # when
    page = client.post(
        reverse("admin:operatorapi_staffapikey_add"),
        {"owner": bob.pk, "name": "bot", "allowed_networks": ""},
    )

    # then: the form again, with the refusal in the reader's words, and nothing written
    assert page.status_code == 200 and "key" not in page.context
    assert page.context["form"].non_field_errors() == [
        "Người sở hữu phải bật xác thực hai lớp trước, vì key thao tác dưới danh nghĩa của họ."
    ]
    assert "key của một người sẽ ngừng hoạt động" in page.content.decode()  # the rule, said
    assert not StaffApiKey.objects.exists()


def test_create_admin_api_key_refuses_an_owner_without_two_factor() -> None:
    staff_user(username="bob")

    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("create_admin_api_key", "bob")

    assert str(refused.value) == REFUSAL

    assert not StaffApiKey.objects.exists()


def test_a_key_stops_while_its_owner_has_two_factor_off_and_works_again_when_on() -> None:
    # given: a key made while its owner had two-factor on
    owner = staff_user(superuser=True, username="root")
    recovery_codes = _enrol(owner)
    api = Api(key_for(owner))
    assert api.get("orders").status_code == 200

    # when: the owner turns it off
    two_factor_disable(user=owner, code=recovery_codes[0])

    # then: refused, and the refusal logged; on again, the same key works
    answer = api.get("orders")
    assert answer.status_code == 403 and answer.json()["error_code"] == "owner_two_factor_off"
    assert ApiCall.objects.filter(error_code="owner_two_factor_off").count() == 1
    _enrol(owner)
    assert api.get("orders").status_code == 200
