"""Re-encrypt every secret at rest under the first key of PANEL_ENCRYPTION_KEYS. It lives in
panel because the secrets belong to apps that may not import each other (provider API keys,
payment gateway credentials, two-factor secrets, the customers' bot token)."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from accounts.models import TwoFactorDevice
from core.commands import OperatorCommand
from core.secrets import reencrypt_secret
from notifications.models import TelegramBot, WebhookEndpoint
from payments.models import GatewaySettings
from providers.models import Provider

# Each column with what the operator is told for it ("re-encrypted 3 provider API keys").
SECRET_COLUMNS = (
    (
        Provider,
        "api_key_encrypted",
        ngettext_lazy(
            "re-encrypted %(count)s provider API key under the current key",
            "re-encrypted %(count)s provider API keys under the current key",
            "count",
        ),
    ),
    (
        GatewaySettings,
        "secrets_encrypted",
        ngettext_lazy(
            "re-encrypted %(count)s gateway credential set under the current key",
            "re-encrypted %(count)s gateway credential sets under the current key",
            "count",
        ),
    ),
    (
        TwoFactorDevice,
        "secret_encrypted",
        ngettext_lazy(
            "re-encrypted %(count)s two-factor secret under the current key",
            "re-encrypted %(count)s two-factor secrets under the current key",
            "count",
        ),
    ),
    (
        TelegramBot,
        "token_encrypted",
        ngettext_lazy(
            "re-encrypted %(count)s Telegram bot token under the current key",
            "re-encrypted %(count)s Telegram bot tokens under the current key",
            "count",
        ),
    ),
    (
        WebhookEndpoint,
        "secret_encrypted",
        ngettext_lazy(
            "re-encrypted %(count)s customer webhook secret under the current key",
            "re-encrypted %(count)s customer webhook secrets under the current key",
            "count",
        ),
    ),
    (
        Provider,
        "webhook_secret_encrypted",
        ngettext_lazy(
            "re-encrypted %(count)s provider webhook secret under the current key",
            "re-encrypted %(count)s provider webhook secrets under the current key",
            "count",
        ),
    ),
)


class Command(OperatorCommand):
    summary = _(
        "Re-encrypt every secret at rest (provider API keys, gateway credentials, two-factor "
        "secrets, the Telegram bot token, webhook secrets) under the first key of "
        "PANEL_ENCRYPTION_KEYS. Put a new key first, run this, "
        "then drop the old key from the setting."
    )

    def handle(self, *args: object, **options: object) -> None:
        with transaction.atomic():
            for model, column, done in SECRET_COLUMNS:
                # Rows of whichever model this entry names; bulk_update takes that model's rows.
                rows: list[Any] = list(model.objects.select_for_update().exclude(**{column: ""}))
                for row in rows:
                    setattr(row, column, reencrypt_secret(getattr(row, column)))
                model.objects.bulk_update(rows, [column])
                self.stdout.write(done % {"count": len(rows)})
