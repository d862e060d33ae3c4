"""One definition of "this panel's rows" for every list, form, lookup and action of a child
panel's own admin (docs/child-panels.md, "Its own admin").

Each model the admin shows, or offers in a form's choices, names the path from its rows to
their panel here. A model missing from SCOPES cannot be shown or chosen: its form field fails
loudly rather than list the install's rows.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from accounts.models import ChildPanelStaff, User
from core.tenancy import current_panel_id
from orders.models import Order, OrderEvent
from providers.models import Category, Provider, Service
from support.models import Ticket

SCOPES: dict[type[Model], str] = {
    User: "child_panel_id",
    ChildPanelStaff: "child_panel_id",
    Provider: "child_panel_id",
    Category: "child_panel_id",
    Service: "provider__child_panel_id",
    Order: "user__child_panel_id",
    OrderEvent: "order__user__child_panel_id",
    Ticket: "user__child_panel_id",
}


def this_panel() -> int:
    """The child panel being served; never the parent (None would mean the parent's rows)."""
    panel_id = current_panel_id()
    if panel_id is None:
        raise PermissionDenied
    return panel_id


def scoped(model: type[Model], queryset: QuerySet) -> QuerySet:
    if model not in SCOPES:
        raise ImproperlyConfigured(f"{model._meta.label} has no panel scope")
    return queryset.filter(**{SCOPES[model]: this_panel()})


class PanelScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin of the child panel's admin: its rows, its forms' choices and so its
    searches, filters, autocompletes and actions are the current panel's. Nothing is deleted
    here: rows leave through services."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scoped(self.model, super().get_queryset(request))

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        related = db_field.related_model
        kwargs["queryset"] = scoped(related, related._default_manager.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelMultipleChoiceField | None:
        related = db_field.related_model
        kwargs["queryset"] = scoped(related, related._default_manager.all())
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def scoped_or_404(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int) -> Model:
    """The row `pk` if the panel being served has it; else 404 (another panel's row is
    nothing here)."""
    return get_object_or_404(model_admin.get_queryset(request), pk=pk)
