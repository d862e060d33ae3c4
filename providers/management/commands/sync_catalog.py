from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext, ngettext

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
                raise CommandError(
                    gettext("No provider named %(name)s") % {"name": repr(options["provider"])}
                )
        failed = 0
        for provider in providers:
            try:
                summary = catalog_sync(provider=provider)
            except ProviderError as exc:
                failed += 1
                self.stderr.write(
                    gettext("%(provider)s: sync failed: %(error)s")
                    % {"provider": provider.name, "error": exc.message}
                )
            else:
                self.stdout.write(str(summary))
        if failed:
            raise CommandError(
                ngettext(
                    "%(count)s provider failed to sync",
                    "%(count)s providers failed to sync",
                    failed,
                )
                % {"count": failed}
            )
