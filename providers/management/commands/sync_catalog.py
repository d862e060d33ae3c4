from django.core.management.base import BaseCommand, CommandError, CommandParser

from providers.errors import ProviderError
from providers.models import Provider
from providers.services import catalog_sync


class Command(BaseCommand):
    help = "Import and sync the services and products of every enabled provider (or one), printing what changed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", help="Only this provider (by name)")

    def handle(self, *args: object, **options: object) -> None:
        providers = Provider.objects.filter(is_enabled=True)
        if options["provider"]:
            providers = Provider.objects.filter(name__iexact=options["provider"])
            if not providers.exists():
                raise CommandError(f"No provider named {options['provider']!r}")
        failed = 0
        for provider in providers:
            try:
                summary = catalog_sync(provider=provider)
            except ProviderError as exc:
                failed += 1
                self.stderr.write(f"{provider.name}: sync failed: {exc.message}")
            else:
                self.stdout.write(str(summary))
        if failed:
            raise CommandError(f"{failed} provider(s) failed to sync")
