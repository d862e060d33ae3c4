from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.commands import OperatorCommand
from core.errors import error_display
from providers.errors import ProviderError
from providers.models import Provider
from providers.services import catalog_sync


class Command(OperatorCommand):
    summary = _(
        "Import and sync the services and products of every enabled provider (or one), printing what changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", help=gettext("Only this provider (by name)"))

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
                    % {"provider": provider.name, "error": error_display(exc)}
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
