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

from core.money import money_field


class ChildPanelState(models.TextChoices):
    """Every state and its ways out (accounts.child_panel_states holds the table):

    - waiting_dns → active (its domain points here: the DNS check or an operator), → deleted;
    - active → suspended (the monthly fee unpaid past the grace period, or an operator),
      → deleted;
    - suspended → active (the fee paid, or an operator), → deleted;
    - deleted: final. Its rows and the ledger stay; its domain is free for another panel.
    """

    WAITING_DNS = "waiting_dns", _("Waiting for DNS")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    DELETED = "deleted", _("Deleted")


# A host name as browsers send it: labels of letters, digits and hyphens, lowercase, with a dot.
domain_validator = RegexValidator(
    r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    _("Enter a domain name such as panel.example.com."),
)
colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour such as #2563eb."))


class ChildPanel(models.Model):
    State: ClassVar[type[ChildPanelState]] = ChildPanelState

    domain = models.CharField(max_length=253, validators=[domain_validator])
    name = models.CharField(max_length=100)
    # The parent's customer who runs it: its orders are bought from the parent as him.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_child_panels"
    )
    currency = models.CharField(max_length=3, default=settings.PANEL_CURRENCY)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    colour = models.CharField(max_length=7, default="#2563eb", validators=[colour_validator])
    state = models.CharField(
        max_length=16, choices=ChildPanelState.choices, default=ChildPanelState.WAITING_DNS
    )
    state_changed_at = models.DateTimeField(auto_now_add=True)
    # What the owner pays the parent each month (0: free), and until when he has paid.
    monthly_fee = money_field()
    paid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            # A live domain belongs to one panel; a deleted panel frees its domain.
            models.UniqueConstraint(
                Lower("domain"),
                condition=~Q(state="deleted"),
                name="child_panel_domain_unique_live",
                violation_error_message=_("This domain is taken."),
            ),
            models.CheckConstraint(
                condition=Q(monthly_fee__gte=0), name="child_panel_fee_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["state", "paid_until"], name="child_panel_due")]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_serving(self) -> bool:
        """Whether its pages and API take new work (a suspended panel only finishes its own)."""
        return self.state == ChildPanelState.ACTIVE
