"""The gateways and methods a deposit may come through, an admin's settings for each method and
the bank accounts customers transfer to."""

import json

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.money import money_field
from core.secrets import decrypt_secret, encrypt_secret
from payments import registry
from payments.banks import bank_choices, bank_for

RATE_DIGITS = 20
RATE_PLACES = 6


class Gateway(models.TextChoices):
    """The built-in gateways' names (and the admin's manual deposits), for code that names one.
    The choices a deposit may take come from the registry (gateway_choices)."""

    SEPAY = "sepay", _("Bank transfer (SePay)")
    CASSO = "casso", _("Bank transfer (Casso)")
    STRIPE = "stripe", _("Card (Stripe)")
    CRYPTOMUS = "cryptomus", _("Crypto (Cryptomus)")
    MANUAL = "manual", _("Manual (admin)")


class Method(models.TextChoices):
    """The built-in methods' names: what a customer chooses on the add-funds page, one settings
    row each. The choices come from the registry (method_choices)."""

    BANK = "bank", _("Bank transfer (VietQR)")
    STRIPE = "stripe", _("Card (Stripe)")
    CRYPTOMUS = "cryptomus", _("Crypto (Cryptomus)")


def method_choices() -> list[tuple[str, str]]:
    """Every method the registered gateways offer: a new gateway needs no migration."""
    return [(method, str(label)) for method, label in registry.method_labels().items()]


def gateway_choices() -> list[tuple[str, str]]:
    """Every registered gateway, and the admin's manual deposits."""
    return [(gateway.gateway, str(gateway.label)) for gateway in registry.REGISTERED] + [
        (Gateway.MANUAL, str(Gateway.MANUAL.label))
    ]


class GatewaySettings(models.Model):
    """An admin's settings for one method. An empty memo prefix falls back to
    PANEL_TRANSFER_PREFIX; credentials are encrypted at rest and never shown again. The bank
    accounts customers transfer to are rows of their own (BankAccount)."""

    method = models.CharField(max_length=16, choices=method_choices, verbose_name=_("method"))
    # Empty: the parent's own settings; a child panel's settings carry its id and are set by its
    # owner on /child-panels/ (docs/child-panels.md#his-customers-pay-him).
    child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("child panel"),
    )
    is_enabled = models.BooleanField(default=True, verbose_name=_("is enabled"))
    currency = models.CharField(
        max_length=3,
        blank=True,
        help_text=_("Currency the gateway charges in (VND for banks)."),
        verbose_name=_("currency"),
    )
    rate = models.DecimalField(
        max_digits=RATE_DIGITS,
        decimal_places=RATE_PLACES,
        null=True,
        blank=True,
        help_text=_("Units of the gateway currency per one unit of the panel currency."),
        verbose_name=_("exchange rate"),
    )
    min_amount = money_field(
        null=True,
        blank=True,
        help_text=_("Smallest deposit, in the gateway currency."),
        verbose_name=_("min amount"),
    )
    max_amount = money_field(
        null=True,
        blank=True,
        help_text=_("Largest deposit, in the gateway currency."),
        verbose_name=_("max amount"),
    )
    transfer_prefix = models.CharField(
        max_length=8,
        blank=True,
        help_text=_("Memo prefix, uppercase letters (e.g. NAP)."),
        verbose_name=_("transfer prefix"),
    )
    secrets_encrypted = models.TextField(
        blank=True, editable=False, verbose_name=_("secrets encrypted")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("gateway settings")
        verbose_name_plural = _("gateway settings")
        constraints = [
            # One row per method and panel: the parent's rows, and each child panel's.
            models.UniqueConstraint(
                fields=["method"],
                condition=Q(child_panel__isnull=True),
                name="gateway_settings_once",
            ),
            models.UniqueConstraint(
                fields=["child_panel", "method"],
                condition=Q(child_panel__isnull=False),
                name="gateway_settings_once_per_child_panel",
            ),
            models.CheckConstraint(
                condition=Q(rate__isnull=True) | Q(rate__gt=0), name="gateway_rate_positive"
            ),
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True)
                | Q(max_amount__isnull=True)
                | Q(min_amount__lte=F("max_amount")),
                name="gateway_min_not_above_max",
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_method_display())

    @property
    def secrets(self) -> dict[str, str]:
        return json.loads(decrypt_secret(self.secrets_encrypted)) if self.secrets_encrypted else {}

    @secrets.setter
    def secrets(self, values: dict[str, str]) -> None:
        self.secrets_encrypted = encrypt_secret(json.dumps(values)) if values else ""


class BankAccount(models.Model):
    """An account customers transfer to, one tab with its own VietQR on the add-funds page. A
    transfer reported into any of them (shown or not) is credited: switching one off hides it
    from customers, while money sent to it from an old screenshot still arrives. None in the
    admin: the PANEL_BANK_* environment variables name the one account (docs/configuration.md)."""

    bank_bin = models.CharField(_("bank"), max_length=6, choices=bank_choices)
    account_number = models.CharField(
        _("account number"),
        max_length=19,
        help_text=_("Letters and digits, as the bank writes it."),
    )
    holder = models.CharField(
        _("account holder"), max_length=64, blank=True, help_text=_("As the bank spells it.")
    )
    is_active = models.BooleanField(
        _("shown to customers"),
        default=True,
        help_text=_("Off: hidden from the add-funds page; transfers into it are still credited."),
    )
    position = models.PositiveSmallIntegerField(
        _("position"), default=0, help_text=_("Smaller first: the first tab is the one shown.")
    )
    # Empty: the parent's account; a child panel's owner's account carries its id.
    child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("child panel"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        constraints = [
            # SePay and Casso name the receiving account by its number alone: once per panel.
            models.UniqueConstraint(
                fields=["account_number"],
                condition=Q(child_panel__isnull=True),
                name="bank_account_once",
            ),
            models.UniqueConstraint(
                fields=["child_panel", "account_number"],
                condition=Q(child_panel__isnull=False),
                name="bank_account_once_per_child_panel",
            ),
            models.CheckConstraint(
                condition=Q(bank_bin__regex=r"^[0-9]{6}$"), name="bank_account_bin_six_digits"
            ),
            models.CheckConstraint(
                condition=Q(account_number__regex=r"^[0-9A-Za-z]{1,19}$"),
                name="bank_account_number_alnum",
            ),
        ]

    def __str__(self) -> str:
        bank = bank_for(self.bank_bin)
        return f"{bank.short_name if bank else self.bank_bin} {self.account_number}"
