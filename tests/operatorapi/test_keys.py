"""Staff keys: shown once, bound to their owner's permissions, narrowed by scopes and
addresses, stopped at once by revoking the key or deactivating the owner."""

from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from core.errors import InvalidRequest
from operatorapi.models import ApiCall, StaffApiKey
from operatorapi.services import staff_api_key_create, staff_api_key_revoke
from tests.factories import UserFactory
from tests.operatorapi.conftest import Api, key_for, staff_user

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_as_a_fingerprint_and_authenticates(root: User) -> None:
    row, key = staff_api_key_create(owner=root, created_by=root, name="bot")
    assert key.startswith("smo_") and key not in (row.digest, row.prefix)
    assert Api(key).get("orders").status_code == 200
    assert StaffApiKey.objects.get(pk=row.pk).last_used_at is not None


def test_a_customer_key_is_not_a_staff_key(root: User) -> None:
    from accounts.services import api_key_create

    answer = Api(api_key_create(user=root)).get("orders")
    assert answer.status_code == 401 and answer.json()["error_code"] == "invalid_key"


def test_missing_and_wrong_keys_answer_401_and_log_nothing(db: None) -> None:
    assert Api("").get("orders").json()["error_code"] == "missing_key"
    assert Api("smo_" + "x" * 40).get("orders").status_code == 401
    assert not ApiCall.objects.exists()


def test_only_a_superuser_creates_keys_for_someone_else(db: None) -> None:
    alice, bob = staff_user(username="alice"), staff_user(username="bob")
    with pytest.raises(InvalidRequest):
        staff_api_key_create(owner=bob, created_by=alice, name="x")
    root = staff_user(superuser=True, username="root")
    row, _ = staff_api_key_create(owner=bob, created_by=root, name="x")
    assert row.user == bob and row.created_by == root


def test_keys_are_for_active_staff_with_known_scopes_and_real_networks(db: None) -> None:
    customer = UserFactory()
    with pytest.raises(InvalidRequest):
        staff_api_key_create(owner=customer, created_by=customer, name="x")
    staff = staff_user()
    with pytest.raises(InvalidRequest):
        staff_api_key_create(owner=staff, created_by=staff, name="x", scopes=["orders:delete"])
    with pytest.raises(InvalidRequest):
        staff_api_key_create(owner=staff, created_by=staff, name="x", allowed_networks=["nope"])
    row, _ = staff_api_key_create(
        owner=staff, created_by=staff, name="x", allowed_networks=["10.1.2.3", "10.9.0.0/16"]
    )
    assert row.allowed_networks == ["10.1.2.3/32", "10.9.0.0/16"]


def test_revoking_stops_the_key_at_once(root: User) -> None:
    row, key = staff_api_key_create(owner=root, created_by=root, name="bot")
    api = Api(key)
    assert api.get("orders").status_code == 200
    assert staff_api_key_revoke(key_id=row.pk)
    assert api.get("orders").status_code == 401


@pytest.mark.parametrize(
    "change", [{"is_active": False}, {"is_staff": False}], ids=["deactivated", "no-longer-staff"]
)
def test_an_owner_who_loses_staff_status_stops_their_key_at_once(
    root: User, change: dict[str, bool]
) -> None:
    api = Api(key_for(root))
    assert api.get("orders").status_code == 200
    User.objects.filter(pk=root.pk).update(**change)
    answer = api.get("orders")
    assert answer.status_code in (401, 403)


def test_a_key_never_does_what_its_owner_cannot(api_as: Callable[..., Api]) -> None:
    api = api_as("orders.view_order")
    assert api.get("orders").status_code == 200
    answer = api.get("users")
    assert answer.status_code == 403 and answer.json()["error_code"] == "permission_denied"


def test_an_owner_losing_a_permission_takes_it_from_the_key_at_once(db: None) -> None:
    owner = staff_user("orders.view_order")
    api = Api(key_for(owner))
    assert api.get("orders").status_code == 200
    owner.user_permissions.clear()
    assert api.get("orders").status_code == 403


def test_scopes_only_narrow(db: None) -> None:
    root = staff_user(superuser=True)
    api = Api(key_for(root, scopes=["orders:read"]))
    assert api.get("orders").status_code == 200
    assert api.get("users").status_code == 403
    assert api.post("services/1/disable").status_code == 403
    # a scope the owner's permissions do not cover adds nothing
    narrow = Api(key_for(staff_user("orders.view_order"), scopes=["users:read"]))
    assert narrow.get("users").status_code == 403
    assert narrow.get("orders").status_code == 403


def test_the_address_allow_list(root: User) -> None:
    key = key_for(root, allowed_networks=["10.8.0.0/16"])
    assert Api(key, address="10.8.3.4").get("orders").status_code == 200
    refused = Api(key, address="10.9.3.4").get("orders")
    assert refused.status_code == 403 and refused.json()["error_code"] == "address_not_allowed"
    assert ApiCall.objects.filter(status_code=403, address="10.9.3.4").exists()


def test_an_ipv4_client_seen_through_an_ipv6_socket_is_judged_by_its_ipv4_address(
    root: User,
) -> None:
    key = key_for(root, allowed_networks=["10.8.0.0/16"])
    assert Api(key, address="::ffff:10.8.3.4").get("orders").status_code == 200
    assert Api(key, address="::ffff:10.9.3.4").get("orders").status_code == 403
    assert (
        Api(key_for(root, allowed_networks=["2001:db8::/32"]), address="2001:db8::7")
        .get("orders")
        .status_code
        == 200
    )


def test_every_call_is_logged_with_key_address_action_and_object(api: Api) -> None:
    api.get("orders/424242")
    call = ApiCall.objects.get()
    assert (call.action, call.object_id, call.status_code, call.address, call.method) == (
        "orders.get",
        "424242",
        404,
        "127.0.0.1",
        "GET",
    )


def test_calls_are_throttled_per_key(root: User, settings: object) -> None:
    settings.PANEL_OPERATOR_API_RATE = "3/min"  # type: ignore[attr-defined]
    first, second = Api(key_for(root)), Api(key_for(root))
    assert [first.get("orders").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert second.get("orders").status_code == 200
    assert first.get("orders")["Retry-After"]


def test_create_admin_api_key_prints_the_key_on_its_last_line(root: User) -> None:
    out = StringIO()
    call_command("create_admin_api_key", "root", "--scope", "orders:read", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    assert key.startswith("smo_")
    assert StaffApiKey.objects.get().scopes == ["orders:read"]
    assert Api(key).get("orders").status_code == 200
