"""The admin dashboard's daily rollup, the daily report's record and the operator's notices.

Rollup rows hold plain ids, not foreign keys: they are rebuilt wholesale per day by
panel.dashboard.rollup and must never block deleting or protecting the rows they count.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, money_field


class DayFigures(models.Model):
    """Orders (or product orders) of one day in TIME_ZONE, one row per kind and status.

    `revenue` is charges net of refunds; `cost` counts only what was bought upstream (sent and
    not canceled), see panel.dashboard.figures.
    """

    class Kind(models.TextChoices):
        ORDER = "order", _("Order")
        PRODUCT = "product", _("Product order")

    day = models.DateField(verbose_name=_("day"))
    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name=_("kind"))
    status = models.CharField(max_length=16, verbose_name=_("status"))
    orders = models.PositiveIntegerField(default=0, verbose_name=_("orders"))
    revenue = money_field(default=ZERO, verbose_name=_("revenue"))
    cost = money_field(default=ZERO, verbose_name=_("cost"))

    class Meta:
        # The dashboard is a page of its own, guarded by this permission (see panel.dashboard).
        verbose_name = _("day figures")
        verbose_name_plural = _("day figures")
        default_permissions = ()
        permissions = [("view_dashboard", gettext_noop("Can view the admin dashboard"))]
        constraints = [
            models.UniqueConstraint(fields=["day", "kind", "status"], name="day_figures_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.status}"


class DayServiceFigures(models.Model):
    """Orders of one day per service and the route (provider) they took."""

    day = models.DateField(verbose_name=_("day"))
    service_id = models.BigIntegerField(verbose_name=_("service ID"))
    provider_id = models.BigIntegerField(verbose_name=_("provider ID"))
    route_id = models.BigIntegerField(
        default=0, help_text=_("0: the service's own provider."), verbose_name=_("route ID")
    )
    orders = models.PositiveIntegerField(default=0, verbose_name=_("orders"))
    revenue = money_field(default=ZERO, verbose_name=_("revenue"))
    cost = money_field(default=ZERO, verbose_name=_("cost"))

    class Meta:
        verbose_name = _("day service figures")
        verbose_name_plural = _("day service figures")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_id", "provider_id", "route_id"],
                name="day_service_figures_unique",
            )
        ]

    def __str__(self) -> str:
        values = {"day": date_format(self.day, "SHORT_DATE_FORMAT"), "service": self.service_id}
        return gettext("%(day)s, service %(service)s") % values


class DayCustomerFigures(models.Model):
    """Orders and product orders of one day per customer."""

    day = models.DateField(verbose_name=_("day"))
    user_id = models.BigIntegerField(verbose_name=_("user ID"))
    orders = models.PositiveIntegerField(default=0, verbose_name=_("orders"))
    revenue = money_field(default=ZERO, verbose_name=_("revenue"))
    cost = money_field(default=ZERO, verbose_name=_("cost"))

    class Meta:
        verbose_name = _("day customer figures")
        verbose_name_plural = _("day customer figures")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["day", "user_id"], name="day_customer_figures_unique")
        ]

    def __str__(self) -> str:
        values = {"day": date_format(self.day, "SHORT_DATE_FORMAT"), "user": self.user_id}
        return gettext("%(day)s, user #%(user)s") % values


class RollupState(models.Model):
    """One row: how far the rollup has read order changes (`updated_at`)."""

    rolled_until = models.DateTimeField(null=True, blank=True, verbose_name=_("rolled until"))

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup states")
        default_permissions = ()

    def __str__(self) -> str:
        if self.rolled_until is None:
            return gettext("Nothing rolled up yet")
        moment = date_format(localtime(self.rolled_until), "SHORT_DATETIME_FORMAT")
        return gettext("Rolled up until %(moment)s") % {"moment": moment}


class DailyReport(models.Model):
    """The midnight report of one day: its row makes sending it exactly once per day."""

    day = models.DateField(unique=True, verbose_name=_("day"))
    body = models.TextField(verbose_name=_("body"))
    sent_at = models.DateTimeField(auto_now_add=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("daily report")
        verbose_name_plural = _("daily reports")
        ordering = ["-day"]
        default_permissions = ()

    def __str__(self) -> str:
        return gettext("Report of %(day)s") % {"day": self.day}


class Notice(models.Model):
    """Text the operator writes in the admin, in both languages, and edits without a deploy: one
    row per kind (panel.notices renders it; docs/operations.md, "Notices and support contacts")."""

    class Kind(models.TextChoices):
        ANNOUNCEMENT = "announcement", _("Announcement (a banner on every page)")
        DEPOSIT_GUIDE = "deposit_guide", _("Deposit guide (the add-funds page)")
        TERMS = "terms", _("Terms of service (/terms/)")

    class TextFormat(models.TextChoices):
        MARKDOWN = "markdown", _("Markdown")
        PLAIN = "plain", _("Plain text")

    kind = models.CharField(_("notice"), max_length=16, choices=Kind.choices, unique=True)
    body_vi = models.TextField(_("text in Vietnamese"), blank=True)
    body_en = models.TextField(_("text in English"), blank=True)
    text_format = models.CharField(
        _("format"),
        max_length=8,
        choices=TextFormat.choices,
        default=TextFormat.MARKDOWN,
        help_text=_(
            "Markdown: **bold**, *italic*, [a link](https://…), lists, headings. HTML is shown "
            "as typed, never run. Plain text keeps line breaks."
        ),
    )
    is_active = models.BooleanField(_("shown"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["kind"]
        # The three rows exist from the start (migration) and are edited, never deleted; adding
        # only recreates a kind that went missing (a restore of an older dump).
        default_permissions = ("add", "change", "view")

    def __str__(self) -> str:
        return str(self.Kind(self.kind).label)

    def clean(self) -> None:
        # A shown notice speaks both languages: a Vietnamese reader never meets the English text.
        if self.is_active:
            missing = {
                field: _("A shown notice needs its text in both languages.")
                for field in ("body_vi", "body_en")
                if not getattr(self, field).strip()
            }
            if missing:
                raise ValidationError(missing)

    def body_in(self, language: str) -> str:
        """The text for a reader of `language`; the other language's when this one is empty."""
        if language == "vi":
            return self.body_vi or self.body_en
        return self.body_en or self.body_vi
