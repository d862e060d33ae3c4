"""Updates Telegram sent to the customers' bot, one row per update_id: Telegram resends an
update until the webhook answers 2xx, and a resent one must not be acted on twice."""

from django.db import models


class BotUpdate(models.Model):
    update_id = models.BigIntegerField(unique=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    # Set when a worker takes it: whatever happens next, it is not handled a second time.
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_permissions = ()
        ordering = ["-update_id"]

    def __str__(self) -> str:
        return f"update {self.update_id}"
