"""The child panel: a reseller's own panel on its own domain, served by this install, whose
customers, catalog and orders carry its id (docs/child-panels.md). Defined beside the user it
scopes; accounts.models exports it."""

from typing import ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.money import ZERO, money_field, panel_currency


class ChildPanelState(models.TextChoices):
    """Every state and its ways out (panel.child_panels.services.MOVES holds the table):

    - waiting_dns → active (its domain points here: the DNS check or an operator),
      → suspended (its fee unpaid past the grace period, or an operator), → deleted;
    - active → suspended (the same), → deleted;
    - suspended → active (the fee paid, when that was the reason; or an operator), → deleted;
    - deleted: final. Its rows and the ledger stay; its domain is free for another panel.
    """

    WAITING_DNS = "waiting_dns", pgettext_lazy("child panel state", "Waiting for DNS")
    ACTIVE = "active", pgettext_lazy("child panel state", "Active")
    SUSPENDED = "suspended", pgettext_lazy("child panel state", "Suspended")
    DELETED = "deleted", pgettext_lazy("child panel state", "Deleted")


class SuspendedReason(models.TextChoices):
    NONE = "", _("Not suspended")
    UNPAID = "unpaid", _("Monthly fee unpaid")
    OPERATOR = "operator", _("Suspended by an operator")


# A host name as browsers send it: labels of letters, digits and hyphens, lowercase, with a dot.
domain_validator = RegexValidator(
    r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    _("Enter a domain name such as panel.example.com."),
)
colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour such as #2563eb."))


class ChildPanel(models.Model):
    State: ClassVar[type[ChildPanelState]] = ChildPanelState

    domain = models.CharField(_("Domain"), max_length=253, validators=[domain_validator])
    name = models.CharField(_("Panel name"), max_length=100)
    # The parent's customer who runs it: its orders are bought from the parent as him.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_child_panels",
        verbose_name=_("Owner"),
    )
    currency = models.CharField(max_length=3, default=panel_currency)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    colour = models.CharField(max_length=7, default="#2563eb", validators=[colour_validator])
    state = models.CharField(
        _("State"),
        max_length=16,
        choices=ChildPanelState.choices,
        default=ChildPanelState.WAITING_DNS,
    )
    state_changed_at = models.DateTimeField(_("State since"), auto_now_add=True)
    # Why it is suspended: a payment resumes a panel suspended for an unpaid fee, never one an
    # operator suspended.
    suspended_reason = models.CharField(
        _("Why suspended"), max_length=16, choices=SuspendedReason.choices, blank=True, default=""
    )
    # The fee frozen when it was ordered (0: free), and the end of the period paid for; empty
    # for a panel an operator provisioned free of charge.
    monthly_fee = money_field(default=ZERO)
    # The owner's login on the panel itself, made with it: the one account of the panel that
    # holds every permission of its admin (CHILD_PANEL_PERMISSIONS) and grants them to its staff.
    owner_login = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("the owner's login on the panel"),
    )
    paid_until = models.DateTimeField(_("Paid until"), null=True, blank=True)
    # When the owner last uploaded his logo (ChildPanelLogo), empty without one: the header
    # reads it from this row, already loaded for the host, and its URL carries it, so a new
    # logo is never hidden behind a cached old one.
    logo_updated_at = models.DateTimeField(_("Logo updated at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]
        verbose_name = _("child panel")
        verbose_name_plural = _("child panels")
        indexes = [models.Index(fields=["paid_until"], name="child_panel_paid_until")]
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_fee__gte=0), name="child_panel_fee_not_negative"
            ),
            # A live domain belongs to one panel; a deleted panel frees its domain.
            models.UniqueConstraint(
                Lower("domain"),
                condition=~Q(state="deleted"),
                name="child_panel_domain_unique_live",
                violation_error_message=_("This domain is taken."),
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_serving(self) -> bool:
        """Whether its pages and API take new work (a suspended panel only finishes its own)."""
        return self.state == ChildPanelState.ACTIVE


# What a child panel's own admin may ever allow, by role (docs/child-panels.md, "Its own admin"):
# the owner's login holds all of them; his staff hold the ones he granted, and the
# authentication backend reads a child account's permissions through this set only, so no row
# of auth_permission outside it counts for one, whoever wrote it.
CHILD_PANEL_ROLES: dict[str, tuple[str, ...]] = {
    "customers": ("accounts.view_user", "accounts.change_user"),
    "funds": ("accounts.view_user", "accounts.add_balancetransaction"),
    "orders": ("orders.view_order", "orders.change_order"),
    "support": ("support.view_ticket", "support.reply_ticket", "support.run_ticket_order_actions"),
    "catalog": (
        "providers.view_service",
        "providers.change_service",
        "providers.view_category",
        "providers.change_category",
        "providers.view_provider",
        "providers.change_provider",
    ),
    "staff": (
        "accounts.view_childpanelstaff",
        "accounts.add_childpanelstaff",
        "accounts.change_childpanelstaff",
    ),
}
CHILD_PANEL_ROLE_NAMES = {
    "customers": _("Customers: see them, block and unblock"),
    "funds": _("Add funds to customers' balances"),
    "orders": _("Orders: see them, resolve reviews"),
    "support": _("Tickets: read, reply, close"),
    "catalog": _("Catalog: hide, rename, markup"),
    "staff": _("Staff: add staff and grant roles"),
}
CHILD_PANEL_PERMISSIONS = frozenset(p for perms in CHILD_PANEL_ROLES.values() for p in perms)


class ChildPanelCharge(models.Model):
    """One payment of a child panel's owner: the setup price, or one month's fee. Unique per
    panel, kind and period, so a renewal run twice, or a form sent twice, charges once."""

    class Kind(models.TextChoices):
        SETUP = "setup", _("Setup fee")
        MONTH = "month", _("Monthly fee")

    child_panel = models.ForeignKey(
        ChildPanel,
        on_delete=models.PROTECT,
        related_name="charges",
        verbose_name=_("child panel"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    # The start of the month paid for; empty for the setup price.
    period_start = models.DateTimeField(_("period start"), null=True, blank=True)
    amount = money_field(verbose_name=_("amount"))
    ledger_entry = models.OneToOneField(
        "accounts.BalanceTransaction",
        on_delete=models.PROTECT,
        # No foreign key in the database: the ledger is partitioned, its key is (id, period).
        db_constraint=False,
        related_name="+",
        verbose_name=_("ledger entry"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("child panel fee")
        verbose_name_plural = _("child panel fees")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                "child_panel",
                "kind",
                "period_start",
                nulls_distinct=False,
                name="child_panel_charge_once_per_period",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="child_panel_charge_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.child_panel_id} {self.kind} {self.period_start or ''}"


class ChildPanelLogo(models.Model):
    """The owner's logo, checked on upload (panel.child_panels.logo) and served on his panel's
    host only. Kept in the database, beside the panel, so every process of the install serves it
    with no shared disk; a row of its own, so reading the panel for a request never reads it."""

    child_panel = models.OneToOneField(
        ChildPanel,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="logo",
        verbose_name=_("child panel"),
    )
    content_type = models.CharField(_("content type"), max_length=32)
    image = models.BinaryField(_("image"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))

    class Meta:
        verbose_name = _("child panel logo")
        verbose_name_plural = _("child panel logos")

    def __str__(self) -> str:
        return f"{self.child_panel_id} {self.content_type} {self.width}x{self.height}"
