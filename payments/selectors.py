"""Reads over deposits."""

from django.db.models import QuerySet

from accounts.models import User
from payments.models import Deposit


def deposits_for_user(*, user: User) -> QuerySet[Deposit]:
    return Deposit.objects.filter(user=user).order_by("-id")


def last_credited_deposit_id(*, user: User) -> int:
    last = (
        Deposit.objects.filter(user=user, status=Deposit.Status.CREDITED)
        .order_by("-credited_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    return last or 0
