"""Issue 17, item 11: superuser, staff, groups and permissions are handed out by superusers
only. Staff with each "user" permission set walk the user admin trying to raise themselves or
anyone else; nothing they hold or reach grows."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PERMISSION_SETS = [
    ("view_user",),
    ("change_user",),
    ("add_user",),
    ("delete_user",),
    ("view_user", "change_user", "add_user", "delete_user"),
]


def _powers() -> dict[int, tuple]:
    """Who may do what in the admin: every account's flags, groups and permissions."""
    return {
        user.pk: (
            user.is_superuser,
            user.is_staff,
            tuple(sorted(user.groups.values_list("pk", flat=True))),
            tuple(sorted(user.user_permissions.values_list("pk", flat=True))),
            user.email,
            user.password,
        )
        for user in User.objects.order_by("pk")
    }


def _raise(user: User, group: Group) -> dict:
    """A complete change form making `user` a superuser with every group and permission."""
    return {
        "username": user.username,
        "email": "taken-over@example.com",
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [group.pk],
        "user_permissions": list(Permission.objects.values_list("pk", flat=True)),
        "discount_percent": "0",
        "language": "",
    }


def _staff_with(codenames: tuple[str, ...]) -> User:
    member = UserFactory(username="helper", is_staff=True)
    member.user_permissions.set(
        Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
    )
    return member


@pytest.fixture
def group() -> Group:
    powerful = Group.objects.create(name="Everything")
    powerful.permissions.set(Permission.objects.all())
    return powerful


@pytest.mark.parametrize("codenames", PERMISSION_SETS, ids="+".join)
def test_staff_with_user_permissions_cannot_raise_anyone(
    codenames: tuple[str, ...], staff: User, customer: User, group: Group
) -> None:
    helper = _staff_with(codenames)
    other_staff = UserFactory(username="colleague", is_staff=True)
    client = Client()
    client.force_login(helper)
    before = _powers()

    answers = []
    for target in (helper, customer, staff, other_staff):
        change = f"/admin/accounts/user/{target.pk}/change/"
        answers.append(client.get(change).status_code)
        answers.append(client.post(change, _raise(target, group)).status_code)
        answers.append(
            client.post(
                f"/admin/accounts/user/{target.pk}/password/",
                {"password1": "Taken-over-9!", "password2": "Taken-over-9!"},
            ).status_code
        )
        answers.append(
            client.post(f"/admin/accounts/user/{target.pk}/delete/", {"post": "yes"}).status_code
        )
    answers.append(
        client.post(
            "/admin/accounts/user/add/",
            {
                "username": "sidekick",
                "usable_password": "true",
                "password1": "Sidekick-pass-9!",
                "password2": "Sidekick-pass-9!",
                "is_superuser": "on",
                "is_staff": "on",
                "groups": [group.pk],
            },
        ).status_code
    )
    answers.append(
        client.post(
            f"/admin/auth/group/{group.pk}/change/",
            {"name": "Everything", "permissions": []},
        ).status_code
    )

    assert 500 not in answers
    after = _powers()
    # Superusers and other staff are untouched, whatever the helper holds.
    for untouchable in (staff, other_staff, helper):
        assert after[untouchable.pk][:4] == before[untouchable.pk][:4]
    assert after[staff.pk] == before[staff.pk] and after[other_staff.pk] == before[other_staff.pk]
    # A customer may have been edited (with "change user"), never raised.
    assert after.get(customer.pk, before[customer.pk])[:4] == before[customer.pk][:4]
    sidekick = User.objects.filter(username="sidekick").first()
    assert sidekick is None or (
        not sidekick.is_superuser and not sidekick.is_staff and not sidekick.groups.exists()
    )


def test_a_superuser_can_still_hand_out_powers(staff: User, customer: User, group: Group) -> None:
    # The same form, sent by a superuser, does raise: the walk above is refused, not malformed.
    client = Client()
    client.force_login(staff)
    response = client.post(f"/admin/accounts/user/{customer.pk}/change/", _raise(customer, group))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.is_superuser and customer.is_staff and customer.groups.filter(pk=group.pk)


def test_staff_may_still_edit_a_customer(staff: User, customer: User, group: Group) -> None:
    helper = _staff_with(("view_user", "change_user"))
    client = Client()
    client.force_login(helper)
    response = client.post(f"/admin/accounts/user/{customer.pk}/change/", _raise(customer, group))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.email == "taken-over@example.com"
    assert not customer.is_superuser and not customer.is_staff and not customer.groups.exists()


def test_staff_who_may_change_groups_cannot_change_what_a_group_grants(group: Group) -> None:
    # A group's permissions are its members' permissions: joining is superuser-only (above),
    # and so is widening a group one already belongs to.
    helper = UserFactory(username="helper", is_staff=True)
    helper.user_permissions.set(
        Permission.objects.filter(content_type__app_label="auth", codename__endswith="_group")
    )
    small = Group.objects.create(name="Small")
    helper.groups.add(small)
    client = Client()
    client.force_login(helper)
    everything = list(Permission.objects.values_list("pk", flat=True))
    client.post(
        f"/admin/auth/group/{small.pk}/change/", {"name": "Small", "permissions": everything}
    )
    client.post("/admin/auth/group/add/", {"name": "New", "permissions": everything})
    assert not small.permissions.exists()
    assert not Permission.objects.filter(group__name="New").exists()
    assert not User.objects.get(pk=helper.pk).has_perm("accounts.change_user")
