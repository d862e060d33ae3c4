"""The child panel's people in its own admin: its customers (look, search, add funds they paid
the owner, block) and its staff (added with roles from the fixed set, never more than the one
adding holds)."""

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.password_validation import validate_password
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.backends import is_owner_login
from accounts.models import CHILD_PANEL_ROLE_NAMES, ChildPanel, ChildPanelStaff, User
from core.errors import PanelError, error_display
from core.money import MONEY_PLACES, money_shown
from core.permissions import ReadOnlyAdmin, requires_permission
from panel.child_panels.billing import child_panel_customer_credit
from panel.child_panels.owner_admin.scoping import PanelScopedAdmin, scoped_or_404, this_panel
from panel.child_panels.staff import (
    child_panel_customers_block,
    child_panel_staff_create,
    child_panel_staff_update,
    roles_held,
)

ADD_FUNDS = "accounts.add_balancetransaction"
BLOCK = "accounts.change_user"


class AddFundsForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"),
        min_value=Decimal("0.01"),
        max_digits=18,
        decimal_places=MONEY_PLACES,
    )


class _CustomerNames:
    """The user model's options under the names a child panel's admin gives its accounts: the
    list's count line and breadcrumbs read them from the change list (its `opts`)."""

    verbose_name = gettext_lazy("customer")
    verbose_name_plural = gettext_lazy("customers")

    def __init__(self, opts: Any) -> None:
        self._opts = opts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._opts, name)


class CustomerChangeList(ChangeList):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opts = cast(Any, _CustomerNames(self.opts))


class CustomerAdmin(PanelScopedAdmin, ReadOnlyAdmin):
    list_display = ("login_name", "email", "phone", "balance_shown", "is_active", "date_joined")
    list_filter = ("is_active",)
    search_fields = ("username", "email", "phone")
    fields = (
        "login_name",
        "email",
        "phone",
        "balance_shown",
        "add_funds_link",
        "is_active",
        "date_joined",
        "last_login",
    )
    readonly_fields = fields
    actions = ("block", "unblock")
    ordering = ("username",)
    # Its accounts are the owner's customers: the pages say so, not the model's "users".
    change_list_template = "admin/child_panels/customer_change_list.html"
    change_form_template = "admin/child_panels/customer_change_form.html"

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return CustomerChangeList

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(
            request, {"title": _("Customers"), "subtitle": None, **(extra_context or {})}
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return super().change_view(
            request, object_id, form_url, {"title": _("Customer"), **(extra_context or {})}
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).filter(is_staff=False)

    @admin.display(description=gettext_lazy("Username"), ordering="username")
    def login_name(self, obj: User) -> str:
        return obj.username

    @admin.display(description=gettext_lazy("balance"), ordering="balance")
    def balance_shown(self, obj: User) -> str:
        return money_shown(obj.balance, currency=obj.currency)

    @admin.display(description=gettext_lazy("Add funds"))
    def add_funds_link(self, obj: User) -> str:
        url = reverse("admin:accounts_user_add_funds", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("Add funds"))

    def has_block_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(BLOCK)

    @admin.action(description=gettext_lazy("Block (no sign-in, no API)"), permissions=["block"])
    def block(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        changed = child_panel_customers_block(
            user_ids=queryset.values_list("pk", flat=True), blocked=True
        )
        self.message_user(
            request,
            ngettext("%(count)d customer blocked.", "%(count)d customers blocked.", changed)
            % {"count": changed},
        )

    @admin.action(description=gettext_lazy("Unblock"), permissions=["block"])
    def unblock(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        changed = child_panel_customers_block(
            user_ids=queryset.values_list("pk", flat=True), blocked=False
        )
        self.message_user(
            request,
            ngettext("%(count)d customer unblocked.", "%(count)d customers unblocked.", changed)
            % {"count": changed},
        )

    def get_urls(self) -> list:
        return [
            path(
                "<int:pk>/add-funds/",
                self.admin_site.admin_view(self.add_funds_view),
                name="accounts_user_add_funds",
            ),
            *super().get_urls(),
        ]

    @requires_permission(ADD_FUNDS)
    def add_funds_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The customer paid the owner directly: the owner's deposit service puts it on her
        balance, recorded as made by the one who typed it."""
        customer = cast(User, scoped_or_404(self, request, pk))
        form = AddFundsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            child = ChildPanel.objects.get(pk=this_panel())
            try:
                child_panel_customer_credit(
                    owner=child.owner,
                    child_panel_id=child.pk,
                    username=customer.username,
                    amount=form.cleaned_data["amount"],
                    created_by=cast(User, request.user),
                )
            except PanelError as exc:
                form.add_error(None, error_display(exc))
            else:
                self.message_user(request, _("Funds added to the customer's balance."))
                return HttpResponseRedirect(
                    reverse("admin:accounts_user_change", args=[customer.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Add funds to %(user)s") % {"user": customer.username},
            "form": form,
            "target_user": customer,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/child_panels/add_funds.html", context)


class StaffForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Roles"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Only roles you hold yourself can be granted."),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"), widget=forms.PasswordInput, required=False, strip=False
    )
    # Set by StaffAdmin.get_form for the request: the roles the one editing holds.
    held_roles: tuple[str, ...] = ()

    class Meta:
        model = ChildPanelStaff
        fields = ("username", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A row shown, not changed, has its fields read-only: none of these are in the form.
        if "roles" in self.fields:
            cast(forms.MultipleChoiceField, self.fields["roles"]).choices = [
                (role, CHILD_PANEL_ROLE_NAMES[role]) for role in self.held_roles
            ]
        if self.instance.pk:
            if "roles" in self.fields:
                self.fields["roles"].initial = roles_held(user=self.instance)
            self.fields.pop("password", None)  # he changes his own on the panel
            if "username" in self.fields:
                self.fields["username"].disabled = True
        elif "password" in self.fields:
            self.fields["password"].required = True

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if not self.instance.pk and User.objects.with_username(username).exists():
            raise forms.ValidationError(_("This username is taken."))
        return username

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password", "")
        if password:
            validate_password(password)
        return password


class StaffAdmin(PanelScopedAdmin):
    form = StaffForm
    list_display = ("login_name", "roles_shown", "is_active", "last_login")
    list_filter = ("is_active",)
    search_fields = ("username",)
    ordering = ("username",)
    fields = ("username", "password", "roles", "is_active")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).filter(is_staff=True)

    def get_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        if obj is None:
            return self.fields
        # A row shown, not changed, lists its roles as words; a form offers the checkboxes.
        roles = "roles" if self.has_change_permission(request, obj) else "roles_shown"
        return ("username", roles, "is_active")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change, **kwargs)
        held = tuple(roles_held(user=cast(User, request.user)))
        return type("StaffForm", (form,), {"held_roles": held})

    @admin.display(description=gettext_lazy("Username"), ordering="username")
    def login_name(self, obj: User) -> str:
        return obj.username

    @admin.display(description=gettext_lazy("Roles"))
    def roles_shown(self, obj: User) -> str:
        if is_owner_login(obj):
            return _("Owner: every role")
        return ", ".join(str(CHILD_PANEL_ROLE_NAMES[role]) for role in roles_held(user=obj))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The owner's login is his alone, one's own roles are not one's to raise, and nobody
        # changes an account holding a role he does not hold.
        if obj is not None:
            user = cast(User, request.user)
            if is_owner_login(obj) or obj.pk == user.pk:
                return False
            if not set(roles_held(user=obj)) <= set(roles_held(user=user)):
                return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        granted_by = cast(User, request.user)
        roles = form.cleaned_data["roles"]
        if change:
            child_panel_staff_update(
                granted_by=granted_by,
                staff_id=obj.pk,
                roles=roles,
                is_active=form.cleaned_data["is_active"],
            )
            return
        created = child_panel_staff_create(
            granted_by=granted_by,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            roles=roles,
        )
        obj.pk = created.pk
