"""Who runs a child panel's own admin: its owner's login, made with the panel, and the staff he
adds with roles from a fixed set (accounts.child_panels.CHILD_PANEL_ROLES). Nobody grants a
role he does not hold, nor changes an account that holds one he does not
(docs/child-panels.md, "Its own admin")."""

from collections.abc import Iterable

from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_noop

from accounts.backends import is_owner_login
from accounts.models import CHILD_PANEL_ROLES, ChildPanel, User
from accounts.services import user_create_customer
from core.errors import InvalidRequest
from core.tenancy import current_panel_id, panel_scope

ADD_STAFF = "accounts.add_childpanelstaff"
CHANGE_STAFF = "accounts.change_childpanelstaff"


def child_panel_owner_login_create(*, child: ChildPanel, username: str, password: str) -> User:
    """The owner's login on his panel: an account of the panel that opens its admin with every
    role (ChildPanel.owner_login). Raises InvalidRequest for a name the panel already has."""
    with transaction.atomic(), panel_scope(child.pk, currency=child.currency):
        login = user_create_customer(username=username, password=password)
        login.is_staff = True
        login.save(update_fields=["is_staff"])
        child.owner_login = login
        child.save(update_fields=["owner_login"])
    return login


def child_panel_owner_login_set(
    *, child: ChildPanel, username: str, password: str
) -> tuple[User, bool]:
    """Make the panel's account `username` its owner login, creating it with `password` when the
    panel has no such account (an existing one keeps its own); returns it and whether it is new.
    The way in for a panel made before its own admin existed, or whose owner lost his login."""
    with transaction.atomic(), panel_scope(child.pk, currency=child.currency):
        child = ChildPanel.objects.select_for_update().get(pk=child.pk)
        login = User.objects.with_username(username).first()
        created = login is None
        if login is None:
            login = user_create_customer(username=username, password=password)
        login.is_staff = True
        login.is_active = True
        login.save(update_fields=["is_staff", "is_active"])
        child.owner_login = login
        child.save(update_fields=["owner_login"])
    return login, created


def roles_held(*, user: User) -> list[str]:
    """The roles every permission of which `user` holds, in the table's order."""
    held = user.get_all_permissions()
    return [role for role, perms in CHILD_PANEL_ROLES.items() if set(perms) <= held]


def _permissions(roles: Iterable[str]) -> list[Permission]:
    wanted = {perm for role in roles for perm in CHILD_PANEL_ROLES[role]}
    match = Q(pk__in=[])
    for perm in wanted:
        app_label, codename = perm.split(".")
        match |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(match))


def _check_grant(*, granted_by: User, permission: str, roles: Iterable[str]) -> None:
    if granted_by.child_panel_id is None or granted_by.child_panel_id != current_panel_id():
        raise InvalidRequest()
    if not granted_by.has_perm(permission):
        raise InvalidRequest(gettext_noop("You may not manage this panel's staff."))
    unknown = set(roles) - set(CHILD_PANEL_ROLES)
    if unknown or not set(roles) <= set(roles_held(user=granted_by)):
        raise InvalidRequest(gettext_noop("You cannot grant a role you do not hold."))


def child_panel_staff_create(
    *, granted_by: User, username: str, password: str, roles: Iterable[str]
) -> User:
    """A staff member of the panel being served, with `roles`, added by `granted_by`."""
    roles = list(roles)
    _check_grant(granted_by=granted_by, permission=ADD_STAFF, roles=roles)
    with transaction.atomic():
        member = user_create_customer(username=username, password=password)
        member.is_staff = True
        member.save(update_fields=["is_staff"])
        member.user_permissions.set(_permissions(roles))
    return member


def child_panel_staff_update(
    *, granted_by: User, staff_id: int, roles: Iterable[str], is_active: bool
) -> User:
    """Set a staff member's roles and whether he may sign in. The owner's login is his own to
    keep, and nobody changes an account holding a role he does not hold himself."""
    roles = list(roles)
    _check_grant(granted_by=granted_by, permission=CHANGE_STAFF, roles=roles)
    member = User.objects.in_current_panel().filter(pk=staff_id, is_staff=True).first()
    if member is None or is_owner_login(member) or member.pk == granted_by.pk:
        raise InvalidRequest(gettext_noop("You may not change this account."))
    if not set(roles_held(user=member)) <= set(roles_held(user=granted_by)):
        raise InvalidRequest(gettext_noop("You may not change this account."))
    with transaction.atomic():
        member.is_active = is_active
        member.save(update_fields=["is_active"])
        member.user_permissions.set(_permissions(roles))
    return member


def child_panel_customers_block(*, user_ids: Iterable[int], blocked: bool) -> int:
    """Block (or unblock) customers of the panel being served: a blocked account signs in
    nowhere, its sessions and API keys stop working. Returns how many changed."""
    if current_panel_id() is None:
        raise InvalidRequest()  # the parent's customers are blocked in the parent's admin
    customers = User.objects.in_current_panel().filter(pk__in=list(user_ids), is_staff=False)
    return customers.exclude(is_active=not blocked).update(is_active=not blocked)
