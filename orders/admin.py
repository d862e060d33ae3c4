from typing import TYPE_CHECKING, cast

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.admin_money import Money
from core.errors import PanelError, error_display
from core.money import money_shown
from core.permissions import ReadOnlyAdmin as BaseReadOnlyAdmin
from core.permissions import permission_for, requires_permission
from orders.admin_forms import AdminOrderForm
from orders.admin_review import RESOLVE, BulkAttachMixin, ReviewAdminMixin
from orders.lifecycle import Kind, Resolution
from orders.models import (
    CancelRequest,
    Order,
    OrderEvent,
    ProductOrder,
    Refill,
    Source,
)
from orders.services import Answer, order_place

# Where an order or product order stands with its provider, shown the same on both.
if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldOpts
    from django.utils.functional import _StrOrPromise

UPSTREAM_FIELDSET: tuple["_StrOrPromise", "_FieldOpts"] = (
    _("Upstream"),
    {
        "fields": (
            "upstream_id",
            "dispatch_state",
            "review_reason",
            "review_link",
            "dispatch_attempts",
            "dispatch_error",
            "next_dispatch_at",
            "sending_started_at",
            "sent_at",
            "next_poll_at",
            "poll_idle_count",
            "poll_miss_count",
            "updated_at",
        )
    },
)


class EventInline(admin.TabularInline):
    model = OrderEvent
    fields = ("created_at", "what", "old", "new", "note", "actor", "actor_user")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("id",)

    @admin.display(description=_("field"))
    def what(self, obj: OrderEvent) -> str:
        return obj.field_name

    @admin.display(description=_("old value"))
    def old(self, obj: OrderEvent) -> str:
        return obj.old_value_name

    @admin.display(description=_("new value"))
    def new(self, obj: OrderEvent) -> str:
        return obj.new_value_name

    @admin.display(description=_("Note"))
    def note(self, obj: OrderEvent) -> str:
        return obj.message_text

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(BaseReadOnlyAdmin):
    """Statuses and money change only through services: admin shows, actions act."""

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        """Resolving a review moves status and money through the services: the model's change
        permission, though this admin edits no field by hand."""
        return request.user.has_perm(permission_for(self, RESOLVE))


# The provider's price per unit of his currency, every digit kept (core.admin_money).
UPSTREAM_RATE = {"upstream_rate": Money("provider.currency", exact=True)}


class MoneyColumns:
    """A paid row's money as customers read it, rounded to the currency's places (core.money),
    in the served panel's currency; core.admin_money uses them on the change page too."""

    @admin.display(description=_("charge"), ordering="charge")
    def charge_shown(self, obj: Order | ProductOrder) -> str:
        return money_shown(obj.charge)

    @admin.display(description=_("refunded"), ordering="refunded")
    def refunded_shown(self, obj: Order | ProductOrder) -> str:
        return money_shown(obj.refunded)

    @admin.display(description=_("cost"), ordering="cost")
    def cost_shown(self, obj: Order | ProductOrder) -> str:
        return money_shown(obj.cost)


@admin.register(Order)
class OrderAdmin(MoneyColumns, BulkAttachMixin, ReviewAdminMixin, ReadOnlyAdmin):
    review_kind = Kind.ORDER
    money_currencies = UPSTREAM_RATE
    # What an operator reads first comes first: the list is wider than a laptop's screen, and
    # the status, the review reason and the money must not be the columns scrolled off it.
    list_display = (
        "id",
        "status",
        "review_link",
        "user",
        "charge_shown",
        "refunded_shown",
        "cost_shown",
        "profit",
        "service_ref",
        "total_quantity",
        "dispatch_state",
        "created_at",
        "link_short",
        "upstream_id",
    )
    list_filter = ("status", "dispatch_state", "provider", "source", "created_at")
    search_fields = ("=id", "link", "=upstream_id", "user__username", "client_ref")
    list_select_related = ("user",)
    # No date_hierarchy: its first and last dates (MIN/MAX of created_at) and the year's months
    # read every order, on every page of the list; the created_at filter gives the ranges.
    inlines = [EventInline]
    actions = ["send_again", "resume_polling", "cancel_and_refund"]
    list_per_page = 100
    show_full_result_count = False  # COUNT(*) over 100,000s of orders on every page is wasted time
    readonly_fields = [f.name for f in Order._meta.fields] + ["profit", "review_link"]
    fieldsets = (
        (
            _("Order"),
            {
                "fields": (
                    "id",
                    "user",
                    "service",
                    "provider",
                    "route",
                    "upstream_service_id",
                    "link",
                    "quantity",
                    "total_quantity",
                    "runs",
                    "interval",
                    "details",
                    "source",
                    "client_ref",
                    "created_at",
                )
            },
        ),
        (_("Status"), {"fields": ("status", "start_count", "remains", "finished_at")}),
        (
            _("Money"),
            {"fields": ("charge", "refunded", "cost", "profit", "upstream_rate", "exchange_rate")},
        ),
        UPSTREAM_FIELDSET,
    )

    @admin.display(description=_("Link"))
    def link_short(self, obj: Order) -> str:
        return obj.link if len(obj.link) <= 40 else obj.link[:37] + "…"

    @admin.display(description=_("Service"), ordering="service_id")
    def service_ref(self, obj: Order) -> int:
        return obj.service_id

    @admin.display(description=_("Profit"))
    def profit(self, obj: Order) -> str:
        return money_shown(obj.profit)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.add_order")

    @requires_permission("orders.add_order")
    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        form = AdminOrderForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    order = order_place(
                        user=form.cleaned_data["user"],
                        service_id=form.cleaned_data["service"].pk,
                        fields=form.as_order_fields(),
                        source=Source.ADMIN,
                        # The admin site lets only signed-in staff this far.
                        actor_user=cast(User, request.user),
                    )
            except PanelError as exc:
                form.add_error(
                    getattr(exc, "field", None)
                    if getattr(exc, "field", None) in form.fields
                    else None,
                    error_display(exc),
                )
            else:
                self.message_user(
                    request,
                    _("Order %(id)s placed for %(user)s: charged %(charge)s.")
                    % {
                        "id": order.pk,
                        "user": order.user,
                        "charge": money_shown(order.charge),
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Place an order for a customer"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/orders/place_order.html", context)


@admin.register(ProductOrder)
class ProductOrderAdmin(MoneyColumns, ReviewAdminMixin, ReadOnlyAdmin):
    money_currencies = UPSTREAM_RATE
    review_kind = Kind.PRODUCT_ORDER
    list_display = (
        "id",
        "created_at",
        "user",
        "product",
        "quantity",
        "charge_shown",
        "refunded_shown",
        "cost_shown",
        "status",
        "dispatch_state",
        "upstream_id",
        "review_link",
    )
    list_filter = ("status", "dispatch_state", "provider")
    search_fields = ("=id", "=upstream_id", "user__username", "client_ref")
    list_select_related = ("user", "product")
    inlines = [EventInline]
    actions = ["send_again", "resume_polling", "cancel_and_refund"]
    readonly_fields = [f.name for f in ProductOrder._meta.fields] + ["review_link", "note_shown"]
    fieldsets = (
        (
            _("Order"),
            {
                "fields": (
                    "id",
                    "user",
                    "product",
                    "provider",
                    "quantity",
                    "require",
                    "source",
                    "client_ref",
                    "created_at",
                )
            },
        ),
        (_("Status"), {"fields": ("status", "result", "note_shown", "finished_at")}),
        (_("Money"), {"fields": ("charge", "refunded", "cost", "upstream_rate", "exchange_rate")}),
        UPSTREAM_FIELDSET,
    )

    @admin.display(description=_("Note"))
    def note_shown(self, obj: ProductOrder) -> str:
        return obj.note_text


@admin.register(Refill)
class RefillAdmin(ReviewAdminMixin, ReadOnlyAdmin):
    review_kind = Kind.REFILL
    list_display = (
        "id",
        "created_at",
        "user",
        "order",
        "status",
        "dispatch_state",
        "escalation",
        "refunded",
        "upstream_id",
        "review_link",
    )
    list_filter = ("status", "dispatch_state", "escalation", "provider")
    search_fields = ("=id", "=order__id", "=upstream_id", "user__username")
    list_select_related = ("user", "order")
    inlines = [EventInline]
    readonly_fields = [f.name for f in Refill._meta.fields] + ["review_link"]
    actions = ["send_again", "resume_polling", "cancel_and_refund"]


@admin.register(CancelRequest)
class CancelRequestAdmin(ReviewAdminMixin, ReadOnlyAdmin):
    review_kind = Kind.CANCEL
    list_display = (
        "id",
        "created_at",
        "user",
        "order",
        "outcome",
        "dispatch_state",
        "dispatch_error",
    )
    list_filter = ("outcome", "dispatch_state", "provider")
    search_fields = ("=id", "=order__id", "user__username")
    readonly_fields = [f.name for f in CancelRequest._meta.fields]
    actions = ["mark_accepted", "mark_rejected"]

    @admin.action(
        description=_("Review → the provider accepted the cancel (poll the order now)"),
        permissions=["resolve"],
    )
    def mark_accepted(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resolve_each(request, queryset, Resolution.CANCEL_ACCEPTED, Answer())

    @admin.action(description=_("Review → the provider did not cancel it"), permissions=["resolve"])
    def mark_rejected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resolve_each(request, queryset, Resolution.CANCEL_REJECTED, Answer())
