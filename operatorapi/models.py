"""Staff keys of the operator API (/adminapi/v2, docs/admin-api.md), the log of every call made
with one, and the stored answers that make a repeated write harmless."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """What a key may be narrowed to. A scope never adds a power: a key does what its owner's
    permissions allow, and with scopes only the part of that they name."""

    ORDERS_READ = "orders:read", _("Orders: read")
    ORDERS_WRITE = "orders:write", _("Orders: refill, cancel, resolve, send again")
    USERS_READ = "users:read", _("Users: read")
    USERS_WRITE = "users:write", _("Users: adjust balances")
    DEPOSITS_READ = "deposits:read", _("Deposits: read")
    DEPOSITS_WRITE = "deposits:write", _("Deposits: assign or reject unmatched")
    TICKETS_READ = "tickets:read", _("Tickets: read")
    TICKETS_WRITE = "tickets:write", _("Tickets: reply and close")
    SERVICES_READ = "services:read", _("Services: read")
    SERVICES_WRITE = "services:write", _("Services: put on or take off sale")


class StaffApiKey(models.Model):
    """A staff user's key, stored as a lookup prefix and an HMAC (accounts.keys); shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_api_keys",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False, verbose_name=_("digest"))
    # Empty: everything the owner may do. Otherwise only these (Scope values).
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    # Empty: any client address. Otherwise CIDR networks ("203.0.113.7/32", "10.0.0.0/8").
    allowed_networks = models.JSONField(_("allowed addresses"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("staff API key")
        verbose_name_plural = _("staff API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiCall(models.Model):
    """One call made with a staff key, allowed or refused: who, from where, what, on which row."""

    key = models.ForeignKey(
        StaffApiKey, on_delete=models.PROTECT, related_name="calls", verbose_name=_("key")
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    method = models.CharField(_("method"), max_length=8)
    action = models.CharField(_("action"), max_length=32, db_index=True)
    object_id = models.CharField(_("object"), max_length=64, blank=True)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"))
    error_code = models.CharField(_("error"), max_length=32, blank=True)
    replayed = models.BooleanField(
        _("replayed"), default=False, help_text=_("Answered from the stored answer of a repeat.")
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("operator API call")
        verbose_name_plural = _("operator API log")
        indexes = [models.Index(fields=["key", "-id"], name="apicall_key_recent")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_id}".strip()


class IdempotencyRecord(models.Model):
    """A write's answer under (key, Idempotency-Key): a repeat gets it again instead of acting
    twice. `status_code` is null while the first request is still running."""

    key = models.ForeignKey(
        StaffApiKey, on_delete=models.CASCADE, related_name="+", verbose_name=_("key")
    )
    idempotency_key = models.CharField(max_length=255, verbose_name=_("idempotency key"))
    request_digest = models.CharField(max_length=64, verbose_name=_("request digest"))
    status_code = models.PositiveSmallIntegerField(null=True, verbose_name=_("status code"))
    body = models.JSONField(null=True, verbose_name=_("body"))
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(
                fields=["key", "idempotency_key"], name="idempotency_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return self.idempotency_key
