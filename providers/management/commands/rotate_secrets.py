from django.core.management.base import BaseCommand
from django.db import transaction

from providers.models import Provider
from providers.secrets import reencrypt_secret


class Command(BaseCommand):
    help = (
        "Re-encrypt every provider API key under the first key of PANEL_ENCRYPTION_KEYS. "
        "Put a new key first, run this, then drop the old key from the setting."
    )

    def handle(self, *args: object, **options: object) -> None:
        with transaction.atomic():
            providers = list(Provider.objects.select_for_update().exclude(api_key_encrypted=""))
            for provider in providers:
                provider.api_key_encrypted = reencrypt_secret(provider.api_key_encrypted)
            Provider.objects.bulk_update(providers, ["api_key_encrypted"])
        self.stdout.write(
            f"re-encrypted the API keys of {len(providers)} provider(s) under the current key"
        )
