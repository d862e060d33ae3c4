"""The admin: a key is created and shown once, staff create keys for themselves only, the log
is read-only and filtered by key and action."""

import pytest
from django.test import Client
from django.urls import reverse

from operatorapi.models import ApiCall, StaffApiKey
from tests.operatorapi.conftest import Api, key_for, staff_user

pytestmark = pytest.mark.django_db
ADD = reverse("admin:operatorapi_staffapikey_add")


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_the_add_page_creates_a_key_and_shows_it_once() -> None:
    root = staff_user(superuser=True, username="root")
    page = _client(root).post(
        ADD,
        {
            "owner": root.pk,
            "name": "Support bot",
            "scopes": ["orders:read"],
            "allowed_networks": "",
        },
    )
    assert page.status_code == 200
    row = StaffApiKey.objects.get()
    key = page.context["key"]
    assert key.startswith(row.prefix) and key.encode() in page.content
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    assert (
        key.encode()
        not in _client(root)
        .get(reverse("admin:operatorapi_staffapikey_change", args=[row.pk]))
        .content
    )
    assert Api(key).get("orders").status_code == 200


def test_staff_create_keys_for_themselves_only() -> None:
    alice = staff_user(
        "operatorapi.add_staffapikey", "operatorapi.view_staffapikey", username="alice"
    )
    bob = staff_user(username="bob")
    page = _client(alice).post(ADD, {"owner": bob.pk, "name": "x"})
    assert page.status_code == 200 and not StaffApiKey.objects.exists()
    assert "owner" in page.context["form"].errors
    _client(alice).post(ADD, {"owner": alice.pk, "name": "mine"})
    assert StaffApiKey.objects.get().user == alice


def test_the_add_page_needs_its_permission() -> None:
    assert _client(staff_user(username="carol")).get(ADD).status_code == 403


def test_the_log_lists_calls_filtered_by_key_and_action() -> None:
    root = staff_user(superuser=True, username="root")
    api = Api(key_for(root))
    api.get("orders")
    api.get("users")
    key = StaffApiKey.objects.get()
    url = reverse("admin:operatorapi_apicall_changelist")
    page = _client(root).get(url, {"action": "users.list", "key__id__exact": key.pk})
    assert page.status_code == 200
    assert list(page.context["cl"].queryset) == list(ApiCall.objects.filter(action="users.list"))
    assert _client(root).get(reverse("admin:operatorapi_apicall_add")).status_code == 403
