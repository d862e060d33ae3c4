"""Admin: affiliates with their figures and percent, referrals (the flagged queue with its
evidence, clear or refuse, change of referrer), the payout queue (paid or rejected), and the
commissions. Every action and view declares its permission."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.http import AuthenticatedRequest
from accounts.models import User
from affiliates.forms import ReasonForm, ReferrerForm
from affiliates.models import (
    Affiliate,
    Commission,
    Payout,
    Referral,
    ReferralChange,
    ReferralFlag,
)
from affiliates.selectors import affiliates_with_figures
from affiliates.services import payout_decide, referral_review, referral_set_referrer
from core.errors import PanelError, error_display
from core.money import money_shown
from core.permissions import ReadOnlyAdmin, requires_permission

CHANGE = "{app_label}.change_{model_name}"


def _decide_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    title: str,
    form: forms.Form,
    facts: list[tuple[str, object]],
    buttons: list[tuple[str, str]],
) -> HttpResponse:
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "facts": facts,
        "buttons": buttons,
        "opts": opts,
        "back_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
    }
    return TemplateResponse(request, "admin/reasoned_decision.html", context)


def evidence_text(flag: ReferralFlag) -> str:
    """What matched, in the reader's language: the flag stores values, not sentences."""
    evidence = flag.evidence
    if flag.reason == ReferralFlag.Reason.SAME_SIGNUP:
        users = User.objects.filter(pk__in=evidence.get("users", [])).values_list(
            "username", flat=True
        )
        return _("Address %(address)s, the same browser, as %(users)s") % {
            "address": evidence.get("address", "?"),
            "users": ", ".join(users),
        }
    return _("%(payer)s paid deposit #%(deposit)s; the referrer paid deposits %(theirs)s") % {
        "payer": evidence.get("payer", "?"),
        "deposit": evidence.get("deposit", "?"),
        "theirs": ", ".join(f"#{pk}" for pk in evidence.get("referrer_deposits", [])),
    }


@admin.register(Affiliate)
class AffiliateAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "code",
        "percent",
        "visits",
        "signups",
        "paying",
        "deposits",
        "pending",
        "available",
        "paid",
    )
    search_fields = ("user__username", "=code")
    fields = ("user", "code", "percent", "visits", "created_at")
    readonly_fields = ("user", "code", "visits", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Affiliate]:
        return affiliates_with_figures()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("Sign-ups"), ordering="signups")
    def signups(self, obj: Any) -> int:
        return int(obj.signups)

    @admin.display(description=gettext_lazy("Paying customers"), ordering="paying")
    def paying(self, obj: Any) -> int:
        return int(obj.paying)

    @admin.display(description=gettext_lazy("Their deposits"), ordering="deposits")
    def deposits(self, obj: Any) -> str:
        return money_shown(obj.deposits)

    @admin.display(description=gettext_lazy("Commission pending"), ordering="pending")
    def pending(self, obj: Any) -> str:
        return money_shown(obj.pending)

    # Below zero: what a reversal after payout left the affiliate owing.
    @admin.display(
        description=gettext_lazy("Commission available"), ordering="user__commission_balance"
    )
    def available(self, obj: Affiliate) -> str:
        return money_shown(obj.user.commission_balance)

    @admin.display(description=gettext_lazy("Commission paid"))
    def paid(self, obj: Any) -> str:
        return money_shown(obj.paid_out - obj.moved)


class FlagInline(admin.TabularInline):
    model = ReferralFlag
    fields = ("reason", "what_matched", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("What matched"))
    def what_matched(self, obj: ReferralFlag) -> str:
        return evidence_text(obj)


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ("referred", "referrer", "review", "created_at", "actions_links")
    list_filter = ("review",)
    search_fields = ("referred__username", "referrer__username")
    list_select_related = ("referred", "referrer")
    inlines = [FlagInline]

    @admin.display(description=gettext_lazy("Actions"))
    def actions_links(self, obj: Referral) -> str:
        links = format_html(
            '<a href="{}">{}</a>',
            reverse("admin:affiliates_referral_referrer", args=[obj.pk]),
            _("Change referrer"),
        )
        if obj.review == Referral.Review.FLAGGED:
            links = format_html(
                '<a class="button" href="{}">{}</a> {}',
                reverse("admin:affiliates_referral_review", args=[obj.pk]),
                _("Review"),
                links,
            )
        return links

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/review/", view(self.review_view), name="affiliates_referral_review"),
            path(
                "<int:pk>/referrer/", view(self.referrer_view), name="affiliates_referral_referrer"
            ),
            *super().get_urls(),
        ]

    def _facts(self, referral: Referral) -> list[tuple[str, object]]:
        facts: list[tuple[str, object]] = [
            (_("Customer"), referral.referred.username),
            (_("Referrer"), referral.referrer.username),
            (_("Review"), referral.get_review_display()),
        ]
        for flag in referral.flags.all():
            facts.append((flag.get_reason_display(), evidence_text(flag)))
        return facts

    @requires_permission(CHANGE)
    def review_view(self, request: AuthenticatedRequest, pk: int) -> HttpResponse:
        referral = get_object_or_404(Referral, pk=pk)
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                referral_review(
                    referral_id=referral.pk,
                    refuse=request.POST.get("decision") == "refuse",
                    reason=form.cleaned_data["reason"],
                    admin=request.user,
                )
            except PanelError as exc:
                form.add_error(None, error_display(exc))
            else:
                self.message_user(request, _("Referral reviewed."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:affiliates_referral_changelist"))
        return _decide_page(
            self,
            request,
            title=_("Review the referral of %(user)s") % {"user": referral.referred.username},
            form=form,
            facts=self._facts(referral),
            buttons=[
                ("clear", _("Clear: pay its commissions")),
                ("refuse", _("Refuse: the same person, never pay")),
            ],
        )

    @requires_permission(CHANGE)
    def referrer_view(self, request: AuthenticatedRequest, pk: int) -> HttpResponse:
        referral = get_object_or_404(Referral, pk=pk)
        form = ReferrerForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            name = form.cleaned_data["referrer"].strip()
            referrer = User.objects.with_username(name).first() if name else None
            if name and referrer is None:
                form.add_error("referrer", _("No such user."))
            else:
                try:
                    referral_set_referrer(
                        referred_id=referral.referred_id,
                        referrer_id=referrer.pk if referrer else None,
                        reason=form.cleaned_data["reason"],
                        admin=request.user,
                    )
                except PanelError as exc:
                    form.add_error(None, error_display(exc))
                else:
                    self.message_user(request, _("Referrer changed."), messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:affiliates_referral_changelist"))
        return _decide_page(
            self,
            request,
            title=_("Change the referrer of %(user)s") % {"user": referral.referred.username},
            form=form,
            facts=self._facts(referral),
            buttons=[("change", _("Change referrer"))],
        )


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "affiliate", "amount_shown", "details", "status", "decide")
    list_filter = ("status",)
    search_fields = ("affiliate__username",)
    list_select_related = ("affiliate",)

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_shown(self, obj: Payout) -> str:
        return money_shown(obj.amount)

    @admin.display(description=gettext_lazy("Decide"))
    def decide(self, obj: Payout) -> str:
        if obj.status != Payout.Status.REQUESTED:
            return obj.reason
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:affiliates_payout_decide", args=[obj.pk]),
            _("Decide"),
        )

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/decide/", view(self.decide_view), name="affiliates_payout_decide"),
            *super().get_urls(),
        ]

    @requires_permission(CHANGE)
    def decide_view(self, request: AuthenticatedRequest, pk: int) -> HttpResponse:
        payout = get_object_or_404(Payout, pk=pk)
        form = ReasonForm(request.POST or None)
        paid = request.POST.get("decision") == "paid"
        if paid:
            form.fields["reason"].required = False
        if request.method == "POST" and form.is_valid():
            try:
                payout_decide(
                    payout_id=payout.pk,
                    paid=paid,
                    reason=form.cleaned_data["reason"],
                    admin=request.user,
                )
            except PanelError as exc:
                form.add_error(None, error_display(exc))
            else:
                self.message_user(request, _("Payout decided."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:affiliates_payout_changelist"))
        return _decide_page(
            self,
            request,
            title=_("Payout #%(id)s") % {"id": payout.pk},
            form=form,
            facts=[
                (_("Affiliate"), payout.affiliate.username),
                (_("Amount"), money_shown(payout.amount)),
                (_("Where to send it"), payout.details),
            ],
            buttons=[("paid", _("Mark paid")), ("reject", _("Reject (give it back)"))],
        )


@admin.register(Commission)
class CommissionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "affiliate",
        "referred",
        "deposit_id",
        "deposit_shown",
        "percent",
        "amount_shown",
        "status",
        "settle_at",
    )
    list_filter = ("status",)
    search_fields = ("affiliate__username", "referred__username", "=deposit_id")
    list_select_related = ("affiliate", "referred")

    @admin.display(description=gettext_lazy("deposit amount"), ordering="deposit_amount")
    def deposit_shown(self, obj: Commission) -> str:
        return money_shown(obj.deposit_amount)

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_shown(self, obj: Commission) -> str:
        return money_shown(obj.amount)


@admin.register(ReferralChange)
class ReferralChangeAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "referred",
        "old_referrer",
        "new_referrer",
        "reason",
        "changed_by",
    )
    list_select_related = ("referred", "old_referrer", "new_referrer", "changed_by")
