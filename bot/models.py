"""Updates Telegram sent to the customers' bot, one row per update_id: Telegram resends an
update until the webhook answers 2xx, and a resent one must not be acted on twice."""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class BotUpdate(models.Model):
    update_id = models.BigIntegerField(unique=True, verbose_name=_("update ID"))
    payload = models.JSONField(verbose_name=_("payload"))
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))
    # Set when a worker takes it: whatever happens next, it is not handled a second time.
    handled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("handled at"))

    class Meta:
        verbose_name = _("bot update")
        verbose_name_plural = _("bot updates")
        default_permissions = ()
        ordering = ["-update_id"]

    def __str__(self) -> str:
        return gettext("Telegram update %(id)s") % {"id": self.update_id}
