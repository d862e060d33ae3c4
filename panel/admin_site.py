"""The panel's admin site: Django's, with the dashboard on its index page."""

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from core.admin_money import MoneySite
from panel.dashboard.views import DASHBOARD_PERMISSION, dashboard_context


class PanelAdminSite(MoneySite, admin.AdminSite):
    index_template = "admin/panel_index.html"
    site_header = _("SMM panel administration")
    site_title = _("SMM panel admin")
    index_title = _("Run the panel")

    def has_permission(self, request: HttpRequest) -> bool:
        # The parent's staff only: a child panel's account is nobody on the parent's host
        # (accounts.backends), and is refused here as well; its admin is its own panel's.
        if getattr(request.user, "child_panel_id", None) is not None:
            return False
        return super().has_permission(request)

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        context = dict(extra_context or {})
        # The figures are for staff holding the permission; others keep the plain index.
        if request.user.has_perm(DASHBOARD_PERMISSION):
            context["dashboard"] = dashboard_context(request)
        return super().index(request, context)
