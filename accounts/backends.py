"""Django's model backend, held to the panel being served (core.tenancy).

Usernames are unique per panel, not across the install: the manager's natural-key lookup finds
a name in the current panel only, and a session's user is found again only on the panel it
logged in to, so a cookie carried to another panel's host logs nobody in there.

A child panel's account holds permissions of its panel's own admin only (CHILD_PANEL_PERMISSIONS):
the owner's login all of them, his staff those he granted, and nothing outside that set whatever
auth_permission rows or groups say (docs/child-panels.md, "Its own admin").
"""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model
from django.http import HttpRequest

from accounts.models import CHILD_PANEL_PERMISSIONS, ChildPanel, User
from core.tenancy import current_panel_id


class PanelModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        user = super().get_user(user_id)
        if user is None or user.child_panel_id != current_panel_id():
            return None
        return user

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None or user.child_panel_id != current_panel_id():
            return None
        return user

    def get_all_permissions(
        self, user_obj: User | AnonymousUser, obj: Model | None = None
    ) -> set[str]:
        permissions = super().get_all_permissions(user_obj, obj)
        panel_id = getattr(user_obj, "child_panel_id", None)
        if panel_id is None:
            return permissions
        if panel_id != current_panel_id() or not user_obj.is_active:
            return set()
        if isinstance(user_obj, User) and is_owner_login(user_obj):
            return set(CHILD_PANEL_PERMISSIONS)
        return permissions & CHILD_PANEL_PERMISSIONS


def is_owner_login(user: User) -> bool:
    """Whether `user` is the login its child panel was made with (ChildPanel.owner_login); kept
    on the object for the request, as Django keeps its permission cache."""
    if user.child_panel_id is None:
        return False
    if not hasattr(user, "_owner_login_cache"):
        user._owner_login_cache = ChildPanel.objects.filter(  # type: ignore[attr-defined]
            pk=user.child_panel_id, owner_login_id=user.pk
        ).exists()
    return bool(user._owner_login_cache)  # type: ignore[attr-defined]
