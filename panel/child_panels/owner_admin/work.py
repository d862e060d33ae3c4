"""The child panel's orders and tickets in its own admin: the parent's ModelAdmins' columns,
actions and services, on this panel's rows only. What reaches rows by id (the review's resolve
page, a ticket's reply and order actions) looks the id up in the panel's rows first."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from accounts.http import AuthenticatedRequest
from core.permissions import requires_permission
from orders.admin import EventInline, MoneyColumns, ReadOnlyAdmin
from orders.admin_review import RESOLVE, ReviewAdminMixin
from orders.lifecycle import Kind
from orders.models import Order
from panel.child_panels.owner_admin.scoping import PanelScopedAdmin, scoped_or_404
from support.admin import ORDER_ACTIONS, REPLY, TicketAdmin
from support.models import Ticket


class OrderEvents(EventInline):
    pass


class OrderAdmin(PanelScopedAdmin, MoneyColumns, ReviewAdminMixin, ReadOnlyAdmin):
    """The parent's review resolutions (send again, cancel and refund, poll again) through
    orders.services.review_resolve, on this panel's orders; no placing, no bulk attach."""

    review_kind = Kind.ORDER
    list_display = (
        "id",
        "status",
        "review_link",
        "user",
        "charge_shown",
        "refunded_shown",
        "service_ref",
        "quantity",
        "created_at",
        "link",
    )
    list_filter = ("status", "dispatch_state", "created_at")
    search_fields = ("=id", "link", "user__username", "client_ref")
    list_select_related = ("user",)
    # No date_hierarchy: its first and last dates (MIN/MAX of created_at) and the year's months
    # read every order, on every page of the list; the created_at filter gives the ranges.
    inlines = [OrderEvents]
    actions = ["send_again", "resume_polling", "cancel_and_refund"]
    list_per_page = 100
    show_full_result_count = False
    fields = (
        "id",
        "user",
        "service",
        "link",
        "quantity",
        "total_quantity",
        "details",
        "source",
        "status",
        "start_count",
        "remains",
        "charge",
        "refunded",
        "dispatch_state",
        "review_reason",
        "review_link",
        "created_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description=_("Service"), ordering="service_id")
    def service_ref(self, obj: Order) -> int:
        return obj.service_id

    @requires_permission(RESOLVE)
    def resolve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        scoped_or_404(self, request, pk)
        return super().resolve_view(request, pk)


class TicketsAdmin(PanelScopedAdmin, TicketAdmin):
    """The parent's ticket admin (thread, reply box, close and reopen, the order ticket's refill
    and cancel) on this panel's tickets."""

    @requires_permission(REPLY)
    def reply_view(self, request: AuthenticatedRequest, pk: int) -> HttpResponse:
        scoped_or_404(self, request, pk)
        return super().reply_view(request, pk)

    @requires_permission(ORDER_ACTIONS)
    def order_action_view(
        self, request: AuthenticatedRequest, pk: int, action: str
    ) -> HttpResponse:
        scoped_or_404(self, request, pk)
        return super().order_action_view(request, pk, action)


def register(site: admin.AdminSite) -> None:
    site.register(Order, OrderAdmin)
    site.register(Ticket, TicketsAdmin)
