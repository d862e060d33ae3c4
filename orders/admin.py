from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.errors import PanelError
from core.permissions import permission_for, requires_permission
from orders.admin_forms import AdminOrderForm, UpstreamIdForm
from orders.models import (
    CancelRequest,
    DispatchState,
    Order,
    OrderEvent,
    ProductOrder,
    Refill,
    Source,
)
from orders.services import (
    dispatch_resolve_cancel,
    dispatch_resolve_cancel_request,
    dispatch_resolve_placed,
    dispatch_resolve_resend,
    order_place,
)

RESOLVE = "{app_label}.change_{model_name}"

# Where an order or product order stands with its provider, shown the same on both.
UPSTREAM_FIELDSET = (
    "Upstream",
    {
        "fields": (
            "upstream_id",
            "dispatch_state",
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
    fields = ("created_at", "field", "old_value", "new_value", "message", "actor", "actor_user")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("id",)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Statuses and money change only through services: admin shows, actions act."""

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        """Resolving a review moves status and money through the services: the model's change
        permission, though this admin edits no field by hand."""
        return request.user.has_perm(permission_for(self, RESOLVE))


class ReviewActionsMixin:
    """Resolving requests whose upstream outcome is unknown: a person decides, never a retry."""

    review_model: type[Order] | type[ProductOrder]

    def get_urls(self) -> list:
        info = self.model._meta.app_label, self.model._meta.model_name  # type: ignore[attr-defined]
        return [
            path(
                "<int:pk>/found-upstream/",
                self.admin_site.admin_view(self.found_upstream_view),
                name="{}_{}_found_upstream".format(*info),
            ),  # type: ignore[attr-defined]
            *super().get_urls(),  # type: ignore[misc]
        ]

    @requires_permission(RESOLVE)
    def found_upstream_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        row = get_object_or_404(self.review_model, pk=pk)
        form = UpstreamIdForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                dispatch_resolve_placed(
                    model=self.review_model,
                    pk=pk,
                    upstream_id=form.cleaned_data["upstream_id"],
                    admin=request.user,
                )
            except PanelError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request, f"{row} is marked as placed upstream; polling starts now."
                )  # type: ignore[attr-defined]
                return HttpResponseRedirect(
                    reverse(f"admin:orders_{self.review_model._meta.model_name}_change", args=[pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"{row}: found at the provider",
            "form": form,
            "row": row,  # type: ignore[attr-defined]
            "opts": self.review_model._meta,
        }
        return TemplateResponse(request, "admin/orders/found_upstream.html", context)

    @admin.action(
        description="Needs review → not at the provider: send again", permissions=["resolve"]
    )
    def resend(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resolve(
            request,
            queryset,
            lambda pk: dispatch_resolve_resend(model=self.review_model, pk=pk, admin=request.user),
            "queued again",
        )

    @admin.action(description="Needs review → cancel and refund in full", permissions=["resolve"])
    def cancel_and_refund(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resolve(
            request,
            queryset,
            lambda pk: dispatch_resolve_cancel(model=self.review_model, pk=pk, admin=request.user),
            "canceled and refunded",
        )

    def _resolve(self, request: HttpRequest, queryset: QuerySet, resolve, verb: str) -> None:  # noqa: ANN001
        done = 0
        for pk in queryset.filter(dispatch_state=DispatchState.NEEDS_REVIEW).values_list(
            "pk", flat=True
        ):
            try:
                with transaction.atomic():
                    resolve(pk)
                done += 1
            except PanelError as exc:
                self.message_user(request, f"{pk}: {exc.message}", messages.ERROR)  # type: ignore[attr-defined]
        skipped = queryset.count() - done
        self.message_user(
            request,
            f"{done} {verb}."
            + (f" {skipped} skipped: only rows needing review can be resolved." if skipped else ""),
        )  # type: ignore[attr-defined]

    @admin.display(description="Resolve")
    def review_link(self, obj: Order | ProductOrder) -> str:
        if obj.dispatch_state != DispatchState.NEEDS_REVIEW:
            return ""
        url = reverse(
            f"admin:orders_{self.review_model._meta.model_name}_found_upstream", args=[obj.pk]
        )
        return format_html('<a href="{}">found at the provider…</a>', url)


@admin.register(Order)
class OrderAdmin(ReviewActionsMixin, ReadOnlyAdmin):
    review_model = Order
    list_display = (
        "id",
        "created_at",
        "user",
        "service_id",
        "link_short",
        "total_quantity",
        "charge",
        "refunded",
        "cost",
        "profit",
        "status",
        "dispatch_state",
        "upstream_id",
        "review_link",
    )
    list_filter = ("status", "dispatch_state", "provider", "source", "created_at")
    search_fields = ("=id", "link", "=upstream_id", "user__username", "client_ref")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    inlines = [EventInline]
    actions = ["resend", "cancel_and_refund"]
    list_per_page = 100
    show_full_result_count = False  # COUNT(*) over 100,000s of orders on every page is wasted time
    readonly_fields = [f.name for f in Order._meta.fields] + ["profit", "review_link"]
    fieldsets = (
        (
            "Order",
            {
                "fields": (
                    "id",
                    "user",
                    "service",
                    "provider",
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
        ("Status", {"fields": ("status", "start_count", "remains", "finished_at")}),
        (
            "Money",
            {"fields": ("charge", "refunded", "cost", "profit", "upstream_rate", "exchange_rate")},
        ),
        UPSTREAM_FIELDSET,
    )

    @admin.display(description="Link")
    def link_short(self, obj: Order) -> str:
        return obj.link if len(obj.link) <= 40 else obj.link[:37] + "…"

    @admin.display(description="Profit")
    def profit(self, obj: Order) -> object:
        return obj.profit

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
                        actor_user=request.user,
                    )
            except PanelError as exc:
                form.add_error(
                    getattr(exc, "field", None)
                    if getattr(exc, "field", None) in form.fields
                    else None,
                    getattr(exc, "detail", exc.message),
                )
            else:
                self.message_user(
                    request,
                    f"Order {order.pk} placed for {order.user}: charged {order.charge}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Place an order for a customer",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/orders/place_order.html", context)


@admin.register(ProductOrder)
class ProductOrderAdmin(ReviewActionsMixin, ReadOnlyAdmin):
    review_model = ProductOrder
    list_display = (
        "id",
        "created_at",
        "user",
        "product",
        "quantity",
        "charge",
        "refunded",
        "cost",
        "status",
        "dispatch_state",
        "upstream_id",
        "review_link",
    )
    list_filter = ("status", "dispatch_state", "provider")
    search_fields = ("=id", "=upstream_id", "user__username", "client_ref")
    list_select_related = ("user", "product")
    inlines = [EventInline]
    actions = ["resend", "cancel_and_refund"]
    readonly_fields = [f.name for f in ProductOrder._meta.fields] + ["review_link"]
    fieldsets = (
        (
            "Order",
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
        ("Status", {"fields": ("status", "result", "note", "finished_at")}),
        ("Money", {"fields": ("charge", "refunded", "cost", "upstream_rate", "exchange_rate")}),
        UPSTREAM_FIELDSET,
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Refill)
class RefillAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "user",
        "order",
        "status",
        "dispatch_state",
        "upstream_id",
        "dispatch_error",
    )
    list_filter = ("status", "dispatch_state", "provider")
    search_fields = ("=id", "=order__id", "=upstream_id", "user__username")
    list_select_related = ("user", "order")
    inlines = [EventInline]
    readonly_fields = [f.name for f in Refill._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(
        description="Needs review → not at the provider: send again", permissions=["resolve"]
    )
    def resend(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = 0
        for pk in queryset.filter(dispatch_state=DispatchState.NEEDS_REVIEW).values_list(
            "pk", flat=True
        ):
            dispatch_resolve_resend(model=Refill, pk=pk, admin=request.user)
            done += 1
        self.message_user(request, f"{done} refill(s) queued again.")


@admin.register(CancelRequest)
class CancelRequestAdmin(ReadOnlyAdmin):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(
        description="Needs review → the provider accepted the cancel (poll the order now)",
        permissions=["resolve"],
    )
    def mark_accepted(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._settle(request, queryset, CancelRequest.Outcome.ACCEPTED)

    @admin.action(
        description="Needs review → the provider did not cancel it", permissions=["resolve"]
    )
    def mark_rejected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._settle(request, queryset, CancelRequest.Outcome.REJECTED)

    def _settle(self, request: HttpRequest, queryset: QuerySet, outcome: str) -> None:
        settled = 0
        for pk in queryset.filter(dispatch_state=DispatchState.NEEDS_REVIEW).values_list(
            "pk", flat=True
        ):
            dispatch_resolve_cancel_request(pk=pk, outcome=outcome, admin=request.user)
            settled += 1
        self.message_user(
            request, f"{settled} cancel request(s) settled; only those needing review can be."
        )
