"""The margin guard in the admin: the holds' filter and column, their three ways out on each
item's page and as list actions, and the held digest: one page per kind (services, products)
with every held item, what each way out would do, one click per item and one for them all.

The staff digest (email, Telegram) and the dashboard's "What needs hands" link to that page
(docs/operations.md "Held services")."""

from typing import cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.ids import parse_id
from core.money import money_shown
from core.permissions import requires_permission
from providers.models import CatalogItemQuerySet, HoldReason, Product, Provider, Service
from providers.selectors import held_review
from providers.services import (
    catalog_hold_approve_pinned,
    catalog_hold_approve_reprice,
    catalog_hold_disable,
)
from providers.services.catalog import HoldOutcome

# The digest lists this many a page; "every held item" reaches past the page.
HELD_PER_PAGE = 100

_RESOLUTIONS = {
    "reprice": catalog_hold_approve_reprice,
    "pinned": catalog_hold_approve_pinned,
    "disable": catalog_hold_disable,
}


class HoldFilter(admin.SimpleListFilter):
    """The margin guard's holds (the list's filter; the held digest is the page to act from)."""

    title = gettext_lazy("margin guard")
    parameter_name = "held"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("any", gettext_lazy("Held, any reason")), *HoldReason.choices[1:]]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "any":
            return cast(CatalogItemQuerySet, queryset).held()
        if self.value() in HoldReason.values:
            return queryset.filter(hold_reason=self.value())
        return queryset


class HoldsAdmin(admin.ModelAdmin):
    """What a catalog item's admin adds for the margin guard's holds."""

    def _url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    @admin.display(description=gettext_lazy("Held"), ordering="hold_reason")
    def hold(self, obj: Service | Product) -> str:
        """The hold's reason in the reader's language, with the cost it moved from."""
        if not obj.hold_reason:
            return "-"
        reason = _("%(reason)s, since %(when)s") % {
            "reason": obj.get_hold_reason_display(),
            "when": date_format(localtime(obj.held_at), "SHORT_DATETIME_FORMAT")
            if obj.held_at
            else "-",
        }
        if obj.held_from_cost is not None:
            cost = money_shown(obj.held_from_cost, exact=True)
            reason = _("%(reason)s (cost was %(cost)s)") % {"reason": reason, "cost": cost}
        return reason

    @admin.display(description=gettext_lazy("Held"))
    def hold_resolve(self, obj: Service | Product) -> str:
        """The hold with its three ways out, on the item's page."""
        reason = self.hold(obj)
        if not obj.pk or not obj.hold_reason:
            return reason
        # One click per item on its page: the buttons post the change form's CSRF token to the
        # resolution view (formaction), which saves nothing else of the form.
        url = reverse(f"admin:{self._url_name('resolve_hold')}", args=[obj.pk])
        return format_html(
            "{}<br>"
            '<button type="submit" formaction="{}" name="resolution" value="reprice">{}</button> '
            '<button type="submit" formaction="{}" name="resolution" value="pinned">{}</button> '
            '<button type="submit" formaction="{}" name="resolution" value="disable">{}</button>',
            reason,
            url,
            _("Approve the markup's price"),
            url,
            _("Approve the current price, pinned"),
            url,
            _("Take off sale"),
        )

    def get_urls(self) -> list:
        return [
            path(
                "<int:pk>/resolve-hold/",
                self.admin_site.admin_view(self.resolve_hold_view),
                name=self._url_name("resolve_hold"),
            ),
            path(
                "held/",
                self.admin_site.admin_view(self.held_view),
                name=self._url_name("held"),
            ),
            *super().get_urls(),
        ]

    @requires_permission("{app_label}.change_{model_name}")
    def resolve_hold_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """One item's hold resolved from its page (a POST): the same services as the actions."""
        back = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[pk])
        resolve = _RESOLUTIONS.get(request.POST.get("resolution", ""))
        if request.method != "POST" or resolve is None:
            return HttpResponseRedirect(back)
        items = cast(CatalogItemQuerySet, self.model.objects.filter(pk=pk))
        self._report_holds(request, resolve(items=items))
        return HttpResponseRedirect(back)

    @requires_permission("{app_label}.view_{model_name}")
    def held_view(self, request: HttpRequest) -> HttpResponse:
        """The held digest: every held item (of one provider with ?provider=), what each way out
        would do, and the buttons. A POST needs the change permission: `one` resolves one item
        (`reprice:12`), `resolution` the ticked items, or every held item listed by the filter
        with `everything`."""
        held = cast(CatalogItemQuerySet, self.model.objects.held())
        provider_id = parse_id(request.GET.get("provider"))
        if provider_id is not None:
            held = held.filter(provider_id=provider_id)
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            self._resolve_posted(request, held)
            return HttpResponseRedirect(request.get_full_path())
        page = Paginator(held_review(items=held), HELD_PER_PAGE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Held by the margin guard"),
            "page": page,
            "providers": Provider.objects.filter(
                pk__in=self.model.objects.held().values("provider_id")
            ).order_by("name"),
            "provider_id": provider_id,
            "can_change": self.has_change_permission(request),
            "change_url": f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
        }
        return TemplateResponse(request, "admin/providers/held.html", context)

    def _resolve_posted(self, request: HttpRequest, held: CatalogItemQuerySet) -> None:
        resolution, _sep, one = request.POST.get("one", "").partition(":")
        if resolution in _RESOLUTIONS:
            item_id = parse_id(one)
            if item_id is not None:
                chosen = held.filter(pk=item_id)
                self._report_holds(request, _RESOLUTIONS[resolution](items=chosen))
            return
        resolve = _RESOLUTIONS.get(request.POST.get("resolution", ""))
        if resolve is None:
            return
        if not request.POST.get("everything"):
            ids = [parse_id(raw) for raw in request.POST.getlist("items")]
            held = held.filter(pk__in=[pk for pk in ids if pk is not None])
        self._report_holds(request, resolve(items=held))

    def _report_holds(self, request: HttpRequest, outcome: HoldOutcome) -> None:
        released = len(outcome.released)
        self.message_user(
            request,
            ngettext("%(count)d hold resolved.", "%(count)d holds resolved.", released)
            % {"count": released},
        )
        if outcome.refused:
            self.message_user(
                request,
                _(
                    "Still held, the price would leave less than the minimum margin at the "
                    "lowest price a customer pays: %(items)s. Raise the markup or the price, "
                    "or take them off sale."
                )
                % {"items": ", ".join(f"#{item.pk}" for item in outcome.refused)},
                messages.WARNING,
            )

    @admin.action(
        description=gettext_lazy("Held: approve the markup's price"), permissions=["change"]
    )
    def approve_held_reprice(self, request: HttpRequest, queryset: CatalogItemQuerySet) -> None:
        self._report_holds(request, catalog_hold_approve_reprice(items=queryset))

    @admin.action(
        description=gettext_lazy("Held: approve the current price, pinned"), permissions=["change"]
    )
    def approve_held_pinned(self, request: HttpRequest, queryset: CatalogItemQuerySet) -> None:
        self._report_holds(request, catalog_hold_approve_pinned(items=queryset))

    @admin.action(description=gettext_lazy("Held: take off sale"), permissions=["change"])
    def disable_held(self, request: HttpRequest, queryset: CatalogItemQuerySet) -> None:
        self._report_holds(request, catalog_hold_disable(items=queryset))
