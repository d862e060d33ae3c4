"""Re-encrypt every secret at rest under the first key of PANEL_ENCRYPTION_KEYS. It lives in
panel because the secrets belong to apps that may not import each other (provider API keys,
payment gateway credentials, two-factor secrets, the customers' bot token)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import TwoFactorDevice
from core.secrets import reencrypt_secret
from notifications.models import TelegramBot, WebhookEndpoint
from payments.models import GatewaySettings
from providers.models import Provider

SECRET_COLUMNS = (
    (Provider, "api_key_encrypted", "provider API key"),
    (GatewaySettings, "secrets_encrypted", "gateway credential set"),
    (TwoFactorDevice, "secret_encrypted", "two-factor secret"),
    (TelegramBot, "token_encrypted", "Telegram bot token"),
    (WebhookEndpoint, "secret_encrypted", "customer webhook secret"),
    (Provider, "webhook_secret_encrypted", "provider webhook secret"),
)


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret at rest (provider API keys, gateway credentials, two-factor "
        "secrets, the Telegram bot token, webhook secrets) under the first key of "
        "PANEL_ENCRYPTION_KEYS. Put a new key first, run this, "
        "then drop the old key from the setting."
    )

    def handle(self, *args: object, **options: object) -> None:
        with transaction.atomic():
            for model, column, label in SECRET_COLUMNS:
                # Rows of whichever model this entry names; bulk_update takes that model's rows.
                rows: list[Any] = list(model.objects.select_for_update().exclude(**{column: ""}))
                for row in rows:
                    setattr(row, column, reencrypt_secret(getattr(row, column)))
                model.objects.bulk_update(rows, [column])
                self.stdout.write(f"re-encrypted {len(rows)} {label}(s) under the current key")
