"""The parent's admin of child panels: each with its state, owner, customers, orders in flight,
the owner's balance and what the panel's customers hold; activate, suspend, resume and delete
through the services, each declaring its permission."""

from decimal import Decimal

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import ChildPanel, ChildPanelState
from core.errors import PanelError, error_display
from core.permissions import ReadOnlyAdmin
from panel.child_panels.selectors import child_panels_overview
from panel.child_panels.services import child_panel_move

MOVE_CHILD_PANEL = "accounts.change_childpanel"


@admin.register(ChildPanel)
class ChildPanelAdmin(ReadOnlyAdmin):
    list_display = (
        "domain",
        "name",
        "owner",
        "state",
        "suspended_reason",
        "customers",
        "in_flight",
        "owner_balance",
        "customers_hold",
        "state_changed_at",
        "paid_until",
    )
    list_filter = ("state",)
    search_fields = ("domain", "name", "owner__username")
    actions = ("activate", "suspend", "resume", "delete_panels")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChildPanel]:
        return child_panels_overview()

    @admin.display(description=_("Customers"), ordering="customer_count")
    def customers(self, obj: ChildPanel) -> int:
        return obj.customer_count  # type: ignore[attr-defined]

    @admin.display(description=_("Orders in flight"), ordering="orders_in_flight")
    def in_flight(self, obj: ChildPanel) -> int:
        return obj.orders_in_flight  # type: ignore[attr-defined]

    @admin.display(description=_("Owner's balance"))
    def owner_balance(self, obj: ChildPanel) -> Decimal:
        return obj.owner.balance

    @admin.display(description=_("Its customers hold"), ordering="exposure")
    def customers_hold(self, obj: ChildPanel) -> Decimal:
        return obj.exposure  # type: ignore[attr-defined]

    def has_move_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(MOVE_CHILD_PANEL)

    def _move(self, request: HttpRequest, queryset: QuerySet[ChildPanel], to: str) -> None:
        moved = 0
        for child in queryset:
            try:
                child_panel_move(child_panel_id=child.pk, to=to)
            except PanelError as exc:
                self.message_user(request, f"{child.domain}: {error_display(exc)}", messages.ERROR)
            else:
                moved += 1
        if moved:
            self.message_user(request, gettext("Child panels changed: %(n)d") % {"n": moved})

    @admin.action(description=_("Open (the domain points here)"), permissions=["move"])
    def activate(self, request: HttpRequest, queryset: QuerySet[ChildPanel]) -> None:
        self._move(
            request, queryset.filter(state=ChildPanelState.WAITING_DNS), ChildPanelState.ACTIVE
        )

    @admin.action(description=_("Suspend"), permissions=["move"])
    def suspend(self, request: HttpRequest, queryset: QuerySet[ChildPanel]) -> None:
        self._move(request, queryset, ChildPanelState.SUSPENDED)

    @admin.action(description=_("Resume"), permissions=["move"])
    def resume(self, request: HttpRequest, queryset: QuerySet[ChildPanel]) -> None:
        self._move(
            request, queryset.filter(state=ChildPanelState.SUSPENDED), ChildPanelState.ACTIVE
        )

    @admin.action(description=_("Delete (keeps the ledger)"), permissions=["move"])
    def delete_panels(self, request: HttpRequest, queryset: QuerySet[ChildPanel]) -> None:
        self._move(request, queryset, ChildPanelState.DELETED)
