"""One-time form tokens: a form sent twice (a double click, a browser retrying a POST) acts once.

Each rendered form carries a fresh random token (`{% form_token %}` from the form_tokens tag
library). The view claims it in the same transaction as the work the form asks for:

    with transaction.atomic():
        form_submission_claim(user=request.user, token=request.POST.get(FIELD))
        order = order_place(...)
        form_submission_record(user=..., token=..., result_url=order_url)

A second POST of the same token waits on the unique key until the first commits, then raises
AlreadySubmitted carrying where the first one led; if the first rolled back, the second goes
ahead. Nothing is stored when a form is rendered, only when it is used.
"""

import re
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import FormSubmission, User
from core.errors import PanelError

FIELD = "form_token"
KEEP_FOR = timedelta(days=2)  # a page left open longer gets "already sent" no more
_WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{20,64}")


class FormExpired(PanelError):
    default_message = _("This form has expired: check what was done, then send it again.")


class AlreadySubmitted(Exception):  # noqa: N818 - not an error: the first submit did the work
    """This form was already sent and acted on; `result_url` is where that submit led."""

    def __init__(self, result_url: str) -> None:
        super().__init__(result_url)
        self.result_url = result_url


def form_token_new() -> str:
    return secrets.token_urlsafe(24)


def form_submission_claim(*, user: User, token: object) -> None:
    """Mark `token` used by `user` in the caller's transaction.

    Raises FormExpired for a missing or malformed token, AlreadySubmitted when it was used.
    """
    if not isinstance(token, str) or not _WELL_FORMED.fullmatch(token):
        raise FormExpired()
    try:
        with transaction.atomic():
            FormSubmission.objects.create(user=user, token=token)
    except IntegrityError:
        previous = FormSubmission.objects.get(user=user, token=token)
        raise AlreadySubmitted(previous.result_url) from None


def form_submission_record(*, user: User, token: str, result_url: str) -> None:
    """Remember where the claimed submit led, for the duplicates that follow it."""
    FormSubmission.objects.filter(user=user, token=token).update(result_url=result_url)


def form_submissions_purge(*, older_than: timedelta = KEEP_FOR) -> int:
    deleted, _counts = FormSubmission.objects.filter(
        created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
