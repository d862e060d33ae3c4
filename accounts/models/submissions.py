"""One-time form tokens: a form sent twice acts once."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class FormSubmission(models.Model):
    """A one-time form token, used: a second POST of the same form finds this row and acts no
    more (see accounts.form_tokens). The row is written in the same transaction as what the
    form did, so a failed submit leaves the token free to send again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="form_submissions",
        verbose_name=_("user"),
    )
    token = models.CharField(max_length=64, verbose_name=_("token"))
    result_url = models.CharField(max_length=500, blank=True, verbose_name=_("result URL"))
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        constraints = [
            models.UniqueConstraint(fields=["user", "token"], name="form_submission_once")
        ]

    def __str__(self) -> str:
        values = {"token": self.token[:8], "user": self.user_id}
        return gettext("Form %(token)s… of user #%(user)s") % values
