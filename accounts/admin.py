from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import ManyToManyField, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.coupons import coupon_create
from accounts.forms import BalanceAdjustmentForm
from accounts.http import AuthenticatedRequest
from accounts.models import (
    ApiKey,
    BalanceTransaction,
    CommissionTransaction,
    Coupon,
    CouponRedemption,
    User,
)
from accounts.services import (
    api_key_create,
    api_key_revoke,
    balance_adjust,
    balance_credit,
)
from core.admin_money import Money
from core.errors import PanelError, error_display
from core.money import money_shown
from core.permissions import ReadOnlyAdmin, requires_permission

# What each admin power needs. Minting a key is adding an ApiKey; a balance change is adding a
# ledger row (BalanceTransaction admin itself stays read-only: rows come only from services).
MINT_API_KEY = "accounts.add_apikey"
REVOKE_API_KEY = "accounts.change_apikey"
ADJUST_BALANCE = "accounts.add_balancetransaction"
# What makes an account powerful in the admin itself. Only a superuser hands these out: with
# "change user" alone, staff could otherwise make themselves superuser or grant themselves any
# permission or group.
POWER_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


def _holds_power(user: User) -> bool:
    return user.is_staff or user.is_superuser


def _is_superuser(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_superuser", False))


# Django stores a permission's name in English when it migrates; the four it makes for every
# model are read out from the model's translated name, the panel's own from the catalog.
DEFAULT_PERMISSION_NAMES = {
    "add": gettext_lazy("Can add %(model)s"),
    "change": gettext_lazy("Can change %(model)s"),
    "delete": gettext_lazy("Can delete %(model)s"),
    "view": gettext_lazy("Can view %(model)s"),
}


def permission_label(permission: Permission) -> str:
    """A permission as the admin's pickers list it, in the reader's language."""
    model = permission.content_type.model_class()
    if model is None:
        return str(permission)
    action, _sep, model_name = permission.codename.partition("_")
    if action in DEFAULT_PERMISSION_NAMES and model_name == model._meta.model_name:
        name = DEFAULT_PERMISSION_NAMES[action] % {"model": model._meta.verbose_name}
    else:
        name = _(permission.name)
    return f"{model._meta.app_config.verbose_name} | {model._meta.verbose_name} | {name}"


class TranslatedPermissionsMixin:
    """The permission pickers of the user and group pages, in the reader's language."""

    def formfield_for_manytomany(
        self,
        db_field: "ManyToManyField[Any, Any]",
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> "forms.ModelMultipleChoiceField[Any] | None":
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        if formfield is not None and db_field.name in ("user_permissions", "permissions"):
            formfield.label_from_instance = permission_label
        return formfield


@admin.register(User)
class UserAdmin(TranslatedPermissionsMixin, DjangoUserAdmin):
    list_display = (
        "login_name",
        "email",
        "balance_shown",
        "currency",
        "discount_percent",
        "pricing_tier",
        "is_active",
        "is_staff",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "is_superuser")
    # The phone/Zalo number is on the change form and found by the search; the list stays narrow.
    search_fields = (*DjangoUserAdmin.search_fields, "phone")
    readonly_fields = (
        "balance_shown",
        "currency",
        "pricing_tier",
        "balance_actions",
        "last_login",
        "date_joined",
    )
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (gettext_lazy("Contact"), {"fields": ("phone",)}),
        (
            gettext_lazy("Money"),
            {
                "fields": (
                    "balance_shown",
                    "currency",
                    "discount_percent",
                    "pricing_tier",
                    "child_panels_allowed",
                    "balance_actions",
                )
            },
        ),
    )
    actions = ["generate_api_key", "revoke_api_keys"]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if _is_superuser(request) else (*fields, *POWER_FIELDS)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Staff accounts (the request's own included) are only looked at by non-superusers:
        # a new password or address on a more powerful account would be a way into it.
        if obj is not None and _holds_power(obj) and not _is_superuser(request):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and _holds_power(obj) and not _is_superuser(request):
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self) -> list:
        urls = [
            path(
                "<int:user_id>/adjust-balance/",
                self.admin_site.admin_view(self.adjust_balance_view),
                name="accounts_user_adjust_balance",
            )
        ]
        return urls + super().get_urls()

    # Django's "username" is a social account's name in the panel's catalog (the order form);
    # here it is the login name.
    @admin.display(description=gettext_lazy("Username"), ordering="username")
    def login_name(self, obj: User) -> str:
        return obj.username

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "username" and formfield is not None:
            formfield.label = gettext_lazy("Username")
        return formfield

    @admin.display(description=gettext_lazy("balance"), ordering="balance")
    def balance_shown(self, obj: User) -> str:
        return money_shown(obj.balance, currency=obj.currency)

    @admin.display(description=gettext_lazy("Add funds / adjust"))
    def balance_actions(self, obj: User) -> str:
        if not obj.pk:
            return "-"
        url = reverse("admin:accounts_user_adjust_balance", args=[obj.pk])
        ledger = (
            reverse("admin:accounts_balancetransaction_changelist") + f"?user__id__exact={obj.pk}"
        )
        return format_html(
            '<a class="button" href="{}">{}</a> &nbsp; <a href="{}">{}</a>',
            url,
            _("Add funds / adjust"),
            ledger,
            _("Transaction history"),
        )

    @requires_permission(ADJUST_BALANCE)
    def adjust_balance_view(self, request: AuthenticatedRequest, user_id: int) -> HttpResponse:
        user = get_object_or_404(User, pk=user_id)
        form = BalanceAdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            amount, kind, memo = (
                form.cleaned_data["amount"],
                form.cleaned_data["kind"],
                form.cleaned_data["memo"],
            )
            try:
                with transaction.atomic():
                    if kind == BalanceTransaction.Kind.DEPOSIT:
                        self.record_deposit(request, user=user, amount=amount, memo=memo)
                    else:
                        balance_adjust(
                            user_id=user.pk, amount=amount, memo=memo, created_by=request.user
                        )
            except PanelError as exc:
                form.add_error(None, error_display(exc))
            else:
                self.message_user(
                    request,
                    _("Balance of %(user)s changed by %(amount)s.")
                    % {"user": user.username, "amount": amount},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Adjust the balance of %(user)s") % {"user": user.username},
            "form": form,
            "target_user": user,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/accounts/user/adjust_balance.html", context)

    def record_deposit(
        self, request: HttpRequest, *, user: User, amount: Decimal, memo: str
    ) -> None:
        """A deposit the customer paid outside the panel. The payments app replaces this with a
        manual deposit row (it sits above accounts and registers its own subclass)."""
        # The admin site lets only signed-in staff this far.
        admin_user = cast(User, request.user)
        balance_credit(user_id=user.pk, amount=amount, memo=memo, created_by=admin_user)

    def has_mint_api_key_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(MINT_API_KEY)

    def has_revoke_api_key_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REVOKE_API_KEY)

    @admin.action(
        description=gettext_lazy("Generate a new API key (revokes the old one)"),
        permissions=["mint_api_key"],
    )
    def generate_api_key(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse:
        # The keys go out in this one page and are stored nowhere: never in `messages`, whose
        # cookie storage is only signed, so anyone holding the cookie could read a key there.
        minted = [(user, api_key_create(user=user)) for user in queryset.order_by("username")]
        context = {
            **self.admin_site.each_context(request),
            "title": _("New API keys"),
            "minted": minted,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "admin/accounts/user/api_keys_minted.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description=gettext_lazy("Revoke API keys"), permissions=["revoke_api_key"])
    def revoke_api_keys(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        revoked = sum(api_key_revoke(user=user) for user in queryset)
        self.message_user(
            request,
            ngettext("Revoked %(count)d key.", "Revoked %(count)d keys.", revoked)
            % {"count": revoked},
        )


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(TranslatedPermissionsMixin, DjangoGroupAdmin):
    """A group's permissions are its members' permissions: only superusers set them."""

    def get_readonly_fields(
        self, request: HttpRequest, obj: Group | None = None
    ) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if _is_superuser(request) else (*fields, "permissions")


@admin.register(BalanceTransaction)
class BalanceTransactionAdmin(ReadOnlyAdmin):
    # A customer's ledger is in his balance's currency (core.admin_money).
    money_currencies = {"amount": Money("user.currency"), "balance_after": Money("user.currency")}
    list_display = (
        "id",
        "created_at",
        "user",
        "kind",
        "amount",
        "balance_after",
        "order_id",
        "product_order_id",
        "memo_shown",
        "created_by",
    )
    list_filter = ("kind", "created_at")
    search_fields = ("user__username", "memo", "=order_id", "=product_order_id")
    list_select_related = ("user", "created_by")
    date_hierarchy = "created_at"
    # The memo's columns are shown as one sentence in the reader's language (core.memos).
    exclude = ("memo", "memo_code", "memo_params")
    readonly_fields = ("memo_shown",)

    @admin.display(description=gettext_lazy("Memo"))
    def memo_shown(self, obj: BalanceTransaction) -> str:
        return obj.memo_text


@admin.register(CommissionTransaction)
class CommissionTransactionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "user",
        "kind",
        "amount",
        "balance_after",
        "commission_id",
        "payout_id",
        "created_by",
    )
    list_filter = ("kind",)
    search_fields = ("user__username", "=commission_id", "=payout_id")
    list_select_related = ("user", "created_by")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "prefix")
    readonly_fields = ("user", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("digest",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "bonus_percent",
        "bonus_amount",
        "min_deposit",
        "uses",
        "max_uses",
        "max_uses_per_user",
        "expires_at",
        "is_active",
    )
    list_filter = ("is_active",)
    search_fields = ("code",)
    readonly_fields = ("uses", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        # The bonus of a coupon in use stays what its customers were promised.
        if obj is not None:
            return ("code", "bonus_percent", "bonus_amount", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Coupon, form: object, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = coupon_create(
            code=obj.code,
            bonus_percent=obj.bonus_percent,
            bonus_amount=obj.bonus_amount,
            min_deposit=obj.min_deposit,
            max_uses=obj.max_uses,
            max_uses_per_user=obj.max_uses_per_user,
            expires_at=obj.expires_at,
        )
        obj.pk = created.pk

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # redemptions point at it: a coupon is switched off, never deleted


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "coupon", "user", "deposit_key", "deposit_amount", "bonus")
    list_select_related = ("coupon", "user")
    search_fields = ("coupon__code", "user__username", "deposit_key")
    readonly_fields = [f.name for f in CouponRedemption._meta.fields]
