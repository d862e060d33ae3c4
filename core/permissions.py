"""Permissions declared where an admin view is declared.

Django admin checks its own views, but a view an admin class adds (`get_urls`) or overrides
(`add_view`) is on its own: `admin_site.admin_view` only asks for staff. Wrapping such a view
in `requires_permission` answers 403 without the permission and records it on the view, so a
test can walk every admin URL and refuse one that declares nothing.
"""

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

View = TypeVar("View", bound=Callable[..., Any])
ATTRIBUTE = "required_permission"


def permission_for(model_admin: Any, template: str) -> str:
    """`template` with the admin's model filled in: "{app_label}.change_{model_name}"."""
    opts = model_admin.opts
    return template.format(app_label=opts.app_label, model_name=opts.model_name)


def requires_permission(template: str) -> Callable[[View], View]:
    """For a ModelAdmin view method: 403 unless the user has the permission `template` names."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def checked(model_admin: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not request.user.has_perm(permission_for(model_admin, template)):
                raise PermissionDenied
            return view(model_admin, request, *args, **kwargs)

        setattr(checked, ATTRIBUTE, template)
        return checked  # type: ignore[return-value]

    return decorate


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services: staff may look, never add, change or delete by hand
    (actions and views an admin adds declare their own permissions)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
