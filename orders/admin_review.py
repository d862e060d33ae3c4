"""Admin for rows in review: a thin, permission-checked caller of orders.services.review_resolve.

What each row may get is the lifecycle's answer (orders/lifecycle/table.py): the resolve page
offers only the resolutions its reason allows, and the service refuses the others anyway.
Every action and view here needs the `resolve` permission: the model's change permission
(`has_resolve_permission` on orders.admin.ReadOnlyAdmin; views declare it with
core.permissions.requires_permission).
"""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.errors import PanelError, error_display
from core.permissions import requires_permission
from orders.admin_forms import BulkAttachForm, ConfirmAbsentForm, ResolveForm
from orders.lifecycle import Kind, Reason, Resolution, figures_of, resolutions_for
from orders.models import DispatchState
from orders.services import Answer, review_attach_many, review_resolve

RESOLVE = "{app_label}.change_{model_name}"  # what resolving a review needs


class ReviewAdminMixin:
    """Resolving rows whose upstream outcome or status is unknown: a person decides."""

    review_kind: Kind
    model: type[Model]
    admin_site: admin.AdminSite

    def _url_name(self, name: str) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_{name}"

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.resolve_view)
        return [
            path("<int:pk>/resolve/", view, name=self._url_name("resolve")),
            *super().get_urls(),  # type: ignore[misc]
        ]

    @requires_permission(RESOLVE)
    def resolve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        row = get_object_or_404(self.model, pk=pk)
        in_review = row.dispatch_state == DispatchState.NEEDS_REVIEW  # type: ignore[attr-defined]
        allowed = resolutions_for(self.review_kind, row.review_reason) if in_review else frozenset()  # type: ignore[attr-defined]
        choices = [(choice.value, choice.label) for choice in Resolution if choice in allowed]
        form = ResolveForm(request.POST or None, choices=choices)
        if request.method == "POST" and form.is_valid():
            answer = Answer(
                upstream_id=form.answer_value("upstream_id") or "",
                delivered=form.answer_value("delivered"),
                upstream_charge=form.answer_value("upstream_charge"),
                confirmed_absent=bool(form.answer_value("confirmed_absent")),
            )
            try:
                review_resolve(
                    kind=self.review_kind,
                    pk=pk,
                    resolution=form.cleaned_data["resolution"],
                    admin=request.user,  # type: ignore[arg-type]
                    answer=answer,
                )
            except PanelError as exc:
                form.add_error(None, error_display(exc))
            else:
                self.message_user(request, _("%(row)s resolved.") % {"row": row})  # type: ignore[attr-defined]
                url = reverse(f"admin:{self._url_name('change')}", args=[pk])
                return HttpResponseRedirect(url)
        reason = row.review_reason  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Resolve %(row)s") % {"row": row},
            "form": form,
            "row": row,
            "in_review": in_review,
            "reason": Reason(reason).label if reason else "",
            "base": self._refund_base(row),
            "has_money": self.review_kind in (Kind.ORDER, Kind.PRODUCT_ORDER),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/orders/resolve.html", context)

    def _refund_base(self, row: Model) -> int | None:
        """What a delivered quantity counts against (docs/lifecycle.md, "Refund base")."""
        if self.review_kind not in (Kind.ORDER, Kind.PRODUCT_ORDER):
            return None
        return figures_of(self.review_kind, row).base  # type: ignore[arg-type]

    @admin.display(description=_("Review"))
    def review_link(self, obj: Model) -> str:
        if obj.dispatch_state != DispatchState.NEEDS_REVIEW:  # type: ignore[attr-defined]
            return ""
        url = reverse(f"admin:{self._url_name('resolve')}", args=[obj.pk])
        reason = obj.review_reason  # type: ignore[attr-defined]
        label = Reason(reason).label if reason else _("needs review")
        return format_html('<a href="{}">{} — {}</a>', url, label, _("resolve…"))

    @admin.action(
        description=_("Review → not at the provider (checked): send again"),
        permissions=["resolve"],
    )
    def send_again(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = ConfirmAbsentForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._resolve_each(
                request, queryset, Resolution.SEND_AGAIN, Answer(confirmed_absent=True)
            )
            return None
        rows = [
            (row, Resolution.SEND_AGAIN in self._allowed(row) and not row.upstream_id)
            for row in queryset
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Send again: confirm they are not at the provider"),
            "rows": rows,
            "form": form,
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/orders/confirm_send_again.html", context)

    @admin.action(description=_("Review → cancel and refund in full"), permissions=["resolve"])
    def cancel_and_refund(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resolve_each(request, queryset, Resolution.CANCEL_REFUND, Answer())

    @admin.action(description=_("Review → poll it again"), permissions=["resolve"])
    def resume_polling(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resolve_each(request, queryset, Resolution.RESUME_POLLING, Answer())

    def _allowed(self, row: Model) -> frozenset[Resolution]:
        if row.dispatch_state != DispatchState.NEEDS_REVIEW:  # type: ignore[attr-defined]
            return frozenset()
        return resolutions_for(self.review_kind, row.review_reason)  # type: ignore[attr-defined]

    def _resolve_each(
        self, request: HttpRequest, queryset: QuerySet, resolution: Resolution, answer: Answer
    ) -> None:
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                review_resolve(
                    kind=self.review_kind,
                    pk=pk,
                    resolution=resolution,
                    admin=request.user,  # type: ignore[arg-type]
                    answer=answer,
                )
                done += 1
            except PanelError as exc:
                self.message_user(request, f"{pk}: {error_display(exc)}", messages.WARNING)  # type: ignore[attr-defined]
        self.message_user(  # type: ignore[attr-defined]
            request, _("%(done)d resolved: %(what)s.") % {"done": done, "what": resolution.label}
        )


class BulkAttachMixin:
    """Orders only: paste "panel order id, upstream order id" lines to resume polling each."""

    model: type[Model]
    admin_site: admin.AdminSite

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.bulk_attach_view)
        return [
            path("bulk-attach/", view, name="orders_order_bulk_attach"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        extra = {**(extra_context or {}), "can_bulk_attach": self.has_resolve_permission(request)}  # type: ignore[attr-defined]
        return super().changelist_view(request, extra_context=extra)  # type: ignore[misc]

    @requires_permission(RESOLVE)
    def bulk_attach_view(self, request: HttpRequest) -> HttpResponse:
        form = BulkAttachForm(request.POST or None)
        results = None
        if request.method == "POST" and form.is_valid():
            results = review_attach_many(text=form.cleaned_data["lines"], admin=request.user)  # type: ignore[arg-type]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Orders in review: attach upstream ids"),
            "form": form,
            "results": results,
            "attached": sum(1 for line in results or () if not line.error),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/orders/bulk_attach.html", context)
