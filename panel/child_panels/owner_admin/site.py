"""A child panel's own admin site, served at /admin/ on its host (panel.urls_child).

Its door: an active account of the panel being served with the admin's flag (is_staff): the
owner's login, made with the panel, and the staff he adds. A parent's account is nobody on a
child's host (accounts.backends), and a child's account is nobody on the parent's: both sites
check the panel as well (docs/child-panels.md, "Its own admin").
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin_money import MoneySite
from core.tenancy import current_panel_id


class ChildPanelAdminSite(MoneySite, admin.AdminSite):
    site_title = _("Panel admin")
    index_title = _("Run your panel")
    site_url = "/"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        panel_id = current_panel_id()
        return (
            panel_id is not None
            and user.is_active
            and user.is_staff
            and getattr(user, "child_panel_id", None) == panel_id
        )

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        apps = super().get_app_list(request, app_label)
        for app in apps:
            for model in app["models"]:
                # The panel's accounts are its owner's customers (staff have their own list).
                if model["model"] is get_user_model():
                    model["name"] = _("Customers")
        return apps

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        child = getattr(request, "child_panel", None)
        # The panel's own name heads its admin: its staff never read the parent's.
        context["site_header"] = child.name if child is not None else ""
        return context
