"""What a deposit earns on top: bonus rules, and the coupon a customer chose for their next
bank transfer."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.money import money_field, money_shown, number_shown
from payments.models.gateways import gateway_choices


class BonusRule(models.Model):
    """A percent added to deposits of at least `min_amount` (panel currency); the rule with the
    highest threshold that a deposit reaches applies, per gateway or for every gateway."""

    gateway = models.CharField(
        max_length=16,
        choices=gateway_choices,
        blank=True,
        help_text=_("Empty: every gateway except manual deposits."),
        verbose_name=_("gateway"),
    )
    min_amount = money_field(help_text=_("In the panel currency."), verbose_name=_("min amount"))
    percent = models.DecimalField(max_digits=5, decimal_places=2, verbose_name=_("percent"))
    is_enabled = models.BooleanField(default=True, verbose_name=_("is enabled"))

    class Meta:
        verbose_name = _("bonus rule")
        verbose_name_plural = _("bonus rules")
        ordering = ["gateway", "-min_amount"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gt=0) & Q(percent__lte=100), name="bonus_percent_range"
            ),
            models.CheckConstraint(condition=Q(min_amount__gte=0), name="bonus_min_not_negative"),
            models.UniqueConstraint(fields=["gateway", "min_amount"], name="bonus_once_per_tier"),
        ]

    def __str__(self) -> str:
        values = {
            "percent": number_shown(self.percent),
            "amount": money_shown(self.min_amount),
            # A gateway no longer offered has no label: its code.
            "gateway": self.get_gateway_display() if self.gateway else gettext("every gateway"),
        }
        return gettext("+%(percent)s%% on deposits from %(amount)s (%(gateway)s)") % values


class BankCoupon(models.Model):
    """The coupon a customer chose for their next bank transfer. A transfer's memo is fixed per
    customer (payments.memo) and arrives without anything else we can trust, so the choice is
    kept here and taken (deleted) by the first transfer credited to them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="bank_coupon",
        verbose_name=_("user"),
    )
    code = models.CharField(max_length=32, verbose_name=_("code"))
    chosen_at = models.DateTimeField(auto_now=True, verbose_name=_("chosen at"))

    class Meta:
        verbose_name = _("bank coupon")
        verbose_name_plural = _("bank coupons")

    def __str__(self) -> str:
        return gettext("%(code)s for user #%(user_id)s") % {
            "code": self.code,
            "user_id": self.user_id,
        }
