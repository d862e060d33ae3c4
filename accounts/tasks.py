"""Thin Celery wrappers for accounts housekeeping."""

from celery import shared_task


@shared_task(ignore_result=True)
def form_submissions_purge_task() -> int:
    from accounts.form_tokens import form_submissions_purge

    return form_submissions_purge()


@shared_task(ignore_result=True)
def signups_expire_task() -> int:
    from accounts.signup import signups_expire

    return signups_expire()
