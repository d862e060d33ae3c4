"""Staff keys (created here, shown once; revoked, never edited) and the log of every call.

Permissions: adding a key is operatorapi.add_staffapikey (and staff add keys for themselves
only), revoking is operatorapi.change_staffapikey, the log is operatorapi.view_apicall."""

from typing import Any, cast

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from core.errors import PanelError, error_display
from core.permissions import ReadOnlyAdmin, requires_permission
from operatorapi.forms import StaffApiKeyForm
from operatorapi.models import ApiCall, Scope, StaffApiKey
from operatorapi.services import staff_api_key_create, staff_api_key_revoke
from operatorapi.urls import ENDPOINTS

ADD_KEY = "operatorapi.add_staffapikey"
REVOKE_KEY = "operatorapi.change_staffapikey"


def _is_superuser(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


class KeyStateFilter(admin.SimpleListFilter):
    title = _("Status")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("active", _("In use")), ("revoked", _("Revoked"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("active", "revoked"):
            return queryset.filter(revoked_at__isnull=self.value() == "active")
        return queryset


@admin.register(StaffApiKey)
class StaffApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "key_prefix",
        "state",
        "scope_list",
        "network_list",
        "last_used_at",
        "created_at",
    )
    list_filter = (KeyStateFilter, ("user", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "=prefix", "user__username")
    list_select_related = ("user",)
    actions = ["revoke"]
    fields = (
        "name",
        "user",
        "prefix",
        "scopes",
        "allowed_networks",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[StaffApiKey]:
        keys = super().get_queryset(request)
        return keys if _is_superuser(request) else keys.filter(user_id=request.user.pk)

    @admin.display(description=_("key prefix"), ordering="prefix")
    def key_prefix(self, obj: StaffApiKey) -> str:
        return f"{obj.prefix}…"

    @admin.display(description=_("Status"), ordering="revoked_at")
    def state(self, obj: StaffApiKey) -> str:
        if obj.revoked_at is None:
            return str(_("In use"))
        when = date_format(localtime(obj.revoked_at), "d/m/Y H:i")
        return str(_("Revoked %(date)s") % {"date": when})

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: StaffApiKey) -> str:
        if not obj.scopes:
            return str(_("everything the owner may do"))
        return ", ".join(obj.scopes)

    @admin.display(description=_("allowed addresses"))
    def network_list(self, obj: StaffApiKey) -> str:
        return ", ".join(obj.allowed_networks) or str(_("any"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ADD_KEY)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # a key's powers only narrow: revoke it and create another

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # the log keeps pointing at it

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REVOKE_KEY)

    @admin.action(description=_("Revoke the selected keys"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[StaffApiKey]) -> None:
        count = sum(staff_api_key_revoke(key_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("Revoked %(count)d key.", "Revoked %(count)d keys.", count) % {"count": count},
        )

    @requires_permission(ADD_KEY)
    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        creator = cast(User, request.user)  # the admin site lets only staff this far
        form = StaffApiKeyForm(request.POST or None, creator=creator)
        if request.method == "POST" and form.is_valid():
            try:
                row, key = staff_api_key_create(
                    owner=form.cleaned_data["owner"],
                    created_by=creator,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    allowed_networks=form.cleaned_data["allowed_networks"],
                )
            except PanelError as exc:
                form.add_error(None, error_display(exc))
            else:
                # The key goes out in this one page and is stored nowhere (not in `messages`,
                # whose cookie is only signed).
                response = TemplateResponse(
                    request,
                    "admin/operatorapi/staffapikey/created.html",
                    {
                        **self.admin_site.each_context(request),
                        "title": _("New staff API key"),
                        "opts": self.model._meta,
                        "row": row,
                        "key": key,
                        "scope_labels": [Scope(value).label for value in row.scopes],
                    },
                )
                add_never_cache_headers(response)
                return response
        return TemplateResponse(
            request,
            "admin/operatorapi/staffapikey/add.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Create a staff API key"),
                "opts": self.model._meta,
                "form": form,
                "is_two_factor_required": settings.PANEL_STAFF_2FA,
            },
        )


class ActionFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(endpoint.action, endpoint.action) for endpoint in ENDPOINTS]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    # What was done and how it ended first: beside the navigation and the filters, the columns
    # after these scroll.
    list_display = ("when", "action", "object_id", "result", "key_name", "address")
    list_filter = ("key", ActionFilter, "status_code", "replayed")
    search_fields = ("=object_id", "=address", "key__prefix", "key__user__username")
    list_select_related = ("key__user",)
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description=_("time"), ordering="created_at")
    def when(self, obj: ApiCall) -> str:
        return date_format(localtime(obj.created_at), "d/m/Y H:i:s")

    @admin.display(description=_("result"), ordering="status_code")
    def result(self, obj: ApiCall) -> str:
        text = f"{obj.status_code} {obj.error_code}".strip()
        return f"{text} ({_('replayed')})" if obj.replayed else text

    @admin.display(description=_("key"), ordering="key__name")
    def key_name(self, obj: ApiCall) -> str:
        return f"{obj.key.name} ({obj.key.user.get_username()})"
