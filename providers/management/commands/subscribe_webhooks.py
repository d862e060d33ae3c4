from django.conf import settings
from django.core.management.base import CommandError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.commands import OperatorCommand
from providers.models import Provider
from providers.services import provider_webhook_subscribe


class Command(OperatorCommand):
    summary = _(
        "Subscribe to the status webhooks of every enabled provider that is a copy of this panel "
        "(beat does it hourly; run this after setting PANEL_PUBLIC_URL to start at once)."
    )

    def handle(self, *args: object, **options: object) -> None:
        if not settings.PANEL_PUBLIC_URL:
            raise CommandError(
                gettext("Set PANEL_PUBLIC_URL first: providers need an address to post to")
            )
        for provider in Provider.objects.filter(is_enabled=True).order_by("name"):
            if provider_webhook_subscribe(provider=provider):
                self.stdout.write(gettext("%(provider)s: subscribed") % {"provider": provider.name})
            else:
                self.stdout.write(
                    gettext("%(provider)s: no webhooks (polling only)")
                    % {"provider": provider.name}
                )
