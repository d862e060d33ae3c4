"""Tickets in the admin: the thread, a reply box, close/reopen, and for order tickets one-click
refill and cancel of the listed orders. Every write goes through support.services, and every
view and action declares the permission it needs."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from accounts.http import AuthenticatedRequest
from core.errors import PanelError, error_display
from core.permissions import ReadOnlyAdmin, requires_permission
from support import services
from support.models import OrderRequest, Ticket, TicketKind
from support.selectors import UNREAD_BY_STAFF, tickets_for_staff

REPLY = "support.reply_ticket"
ORDER_ACTIONS = "support.run_ticket_order_actions"


class UnreadFilter(admin.SimpleListFilter):
    title = _("unread")
    parameter_name = "unread"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", _("New messages from the customer"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        return queryset.filter(UNREAD_BY_STAFF) if self.value() == "yes" else queryset


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    # Tickets change only through replies and the actions below.
    list_display = ("id", "unread", "subject", "user", "kind", "request", "status", "updated_at")
    list_filter = (UnreadFilter, "status", "kind", "request")
    search_fields = ("=id", "subject", "user__username", "payment_reference")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "kind",
        "request",
        "order_links",
        "payment_reference",
        "subject",
        "status",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    actions = ["close", "reopen"]
    change_form_template = "admin/support/ticket/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ticket]:
        return tickets_for_staff()

    @admin.display(description=_("Unread"), ordering="unread")
    def unread(self, obj: Ticket) -> int:
        return obj.unread  # type: ignore[attr-defined]

    @admin.display(description=_("Orders"))
    def order_links(self, obj: Ticket) -> str:
        return ", ".join(str(pk) for pk in obj.orders.order_by("pk").values_list("pk", flat=True))

    def has_reply_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REPLY)

    def has_order_actions_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ORDER_ACTIONS)

    @admin.action(description=_("Close the selected tickets"), permissions=["reply"])
    def close(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        done = sum(
            services.ticket_close(ticket_id=pk) for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, _("%(count)d closed.") % {"count": done})

    @admin.action(description=_("Reopen the selected tickets"), permissions=["reply"])
    def reopen(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        done = sum(
            services.ticket_reopen(ticket_id=pk) for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, _("%(count)d reopened.") % {"count": done})

    def get_urls(self) -> list:
        return [
            path(
                "<int:pk>/reply/",
                self.admin_site.admin_view(self.reply_view),
                name="support_ticket_reply",
            ),
            path(
                "<int:pk>/orders/<str:action>/",
                self.admin_site.admin_view(self.order_action_view),
                name="support_ticket_order_action",
            ),
            *super().get_urls(),
        ]

    def _back(self, pk: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:support_ticket_change", args=[pk]))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        ticket = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if ticket is not None and self.has_view_permission(request, ticket):
            extra_context.update(
                thread=ticket.messages.select_related("author"),
                can_reply=self.has_reply_permission(request),
                can_act=self.has_order_actions_permission(request)
                and ticket.kind == TicketKind.ORDER,
                order_actions=[OrderRequest.REFILL, OrderRequest.CANCEL],
            )
            services.ticket_mark_read(ticket=ticket, by_staff=True)
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def _post_only(request: HttpRequest) -> None:
        if request.method != "POST":
            raise PermissionDenied

    @requires_permission(REPLY)
    def reply_view(self, request: AuthenticatedRequest, pk: int) -> HttpResponse:
        self._post_only(request)
        ticket = get_object_or_404(Ticket, pk=pk)
        try:
            services.ticket_answer(
                ticket_id=ticket.pk, admin=request.user, body=request.POST.get("body", "")
            )
        except PanelError as exc:
            self.message_user(request, error_display(exc), messages.ERROR)
        else:
            self.message_user(request, _("Reply sent; the customer gets an email."))
        return self._back(pk)

    @requires_permission(ORDER_ACTIONS)
    def order_action_view(
        self, request: AuthenticatedRequest, pk: int, action: str
    ) -> HttpResponse:
        self._post_only(request)
        ticket = get_object_or_404(Ticket, pk=pk)
        try:
            message = services.ticket_order_action(
                ticket_id=ticket.pk, action=action, admin=request.user
            )
        except PanelError as exc:
            self.message_user(request, error_display(exc), messages.ERROR)
        else:
            self.message_user(request, message.body)
        return self._back(pk)
