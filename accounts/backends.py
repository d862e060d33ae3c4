"""Django's model backend, held to the panel being served (core.tenancy).

Usernames are unique per panel, not across the install: the manager's natural-key lookup finds
a name in the current panel only, and a session's user is found again only on the panel it
logged in to, so a cookie carried to another panel's host logs nobody in there.
"""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.models import User
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
