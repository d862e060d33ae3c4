"""The accounts: the user (customer, reseller, staff) and its manager, and a child panel's staff
listed apart."""

from email.utils import formataddr, parseaddr
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from accounts.usernames import username_normalize
from core.money import ZERO, money_field, panel_currency
from core.tenancy import current_panel_id


class UserManager(DjangoUserManager["User"]):
    def in_current_panel(self) -> "QuerySet[User]":
        """The accounts of the panel being served (core.tenancy): a parent customer is not a
        child panel's customer, and a name or an address means an account of one panel only."""
        return self.filter(child_panel_id=current_panel_id())

    def with_username(self, username: str) -> "QuerySet[User]":
        """The current panel's account a name means, in any case and compatibility spelling (at
        most one: the database keeps Lower(username) unique per panel)."""
        return (
            self.in_current_panel()
            .alias(username_lower=Lower("username"))
            .filter(username_lower=Lower(Value(username_normalize(username))))
        )

    def get_by_natural_key(self, username: str | None) -> "User":
        # The authentication backend's lookup: "ALICE" and "ａlice" log in as alice.
        return self.with_username(username or "").get()


class User(AbstractUser):
    # Unique per panel, not across the install (the constraint below): two panels may each have
    # an "alice". The authentication backend looks names up in the current panel only.
    username = models.CharField(
        _("username"),
        max_length=150,
        help_text=_("Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."),
        validators=[AbstractUser.username_validator],
    )
    # The child panel this account belongs to; empty for the parent panel's own accounts. Every
    # order, ticket, key and session of the account follows it (docs/child-panels.md).
    child_panel = models.ForeignKey(
        "accounts.ChildPanel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="customers",
    )
    # A cache of the ledger: changed only by accounts.services.balance_credit/balance_debit.
    balance = money_field(default=ZERO, editable=False, verbose_name=_("balance"))
    currency = models.CharField(
        max_length=3, default=panel_currency, editable=False, verbose_name=_("currency")
    )
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        help_text=_("Taken off every service and product price this user pays, 0–100."),
        verbose_name=_("discount percent"),
    )
    # The rank (accounts.ranks): set by pricing_tiers_assign from the ledger's totals, right
    # after each credited deposit and on beat; it only ever moves up on its own.
    pricing_tier = models.ForeignKey(
        "accounts.PricingTier",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="users",
        verbose_name=_("pricing tier"),
    )
    # The language the user chose with the switcher; empty until they choose (PANEL_LANGUAGE).
    language = models.CharField(
        max_length=8, blank=True, default="", choices=settings.LANGUAGES, verbose_name=_("language")
    )
    # A self sign-up whose emailed link was not opened yet. Kept apart from is_active, which an
    # admin also clears: only these expire (PANEL_SIGNUP_CONFIRM_HOURS) and free their address.
    # A default in the database too: raw inserts (bench, restores) that predate it keep working.
    awaiting_confirmation = models.BooleanField(
        default=False, db_default=False, editable=False, verbose_name=_("awaiting confirmation")
    )
    # The admin's grant of child panels whatever the rank (accounts.ranks.can_order_child_panels).
    child_panels_allowed = models.BooleanField(
        default=False,
        db_default=False,
        help_text=_("May order child panels whatever their rank."),
        verbose_name=_("child panels allowed"),
    )
    # A cache of the commission ledger (CommissionTransaction), apart from the spending balance:
    # changed only by accounts.commission. Below zero is commission that was paid out and then
    # reversed: owed, and recovered from the next commissions (docs/affiliates.md). A default in
    # the database too, for the raw inserts that predate it.
    commission_balance = money_field(
        default=ZERO, db_default=ZERO, editable=False, verbose_name=_("commission balance")
    )

    # A Vietnamese mobile number, also the customer's Zalo, in the national form (core.phones):
    # optional at sign-up, edited on the account page, read by staff in the admin.
    phone = models.CharField(
        _("phone / Zalo"),
        max_length=10,
        blank=True,
        default="",
        db_default="",
        validators=[
            RegexValidator(
                r"^0[35789]\d{8}$", _("Enter a Vietnamese mobile number, e.g. 0912345678.")
            )
        ],
    )

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # One account per name and panel whatever its case: "ALICE" cannot sit beside "alice".
            models.UniqueConstraint(
                Lower("username"),
                F("child_panel"),
                nulls_distinct=False,
                name="user_username_lower_unique_per_panel",
                violation_error_message=_("This username is taken."),
            ),
            models.CheckConstraint(condition=Q(balance__gte=0), name="user_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="user_discount_percent_range",
            ),
            # A superuser holds every permission of the install, past any backend: a child
            # panel's account never is one (its admin's powers are CHILD_PANEL_PERMISSIONS).
            models.CheckConstraint(
                condition=Q(child_panel__isnull=True) | Q(is_superuser=False),
                name="user_child_panel_not_superuser",
            ),
        ]

    @property
    def preferred_language(self) -> str:
        """The language pages and emails to this user are written in."""
        return self.language or settings.LANGUAGE_CODE

    @property
    def panel_name(self) -> str:
        """The name of the panel this account belongs to, as its emails sign: a child panel's
        customer never reads the parent's (docs/child-panels.md)."""
        child = self.child_panel
        return child.name if child is not None else settings.PANEL_NAME

    @property
    def mail_from(self) -> str:
        """The From of mail to this account: the parent's sending address (the domain its mail
        is authenticated for), under the child panel's name for a child panel's customer."""
        if self.child_panel_id is None:
            return settings.DEFAULT_FROM_EMAIL
        return formataddr((self.panel_name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))


class ChildPanelStaff(User):
    """A child panel's staff member: an account of the panel with the admin's door open
    (is_staff) and the roles its owner granted. The same row as a customer's, listed apart in
    the panel's own admin (docs/child-panels.md, "Its own admin")."""

    class Meta:
        proxy = True
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
