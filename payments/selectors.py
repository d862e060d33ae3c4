"""Reads over deposits."""

from django.db.models import QuerySet

from accounts.models import User
from payments.models import Deposit


def deposits_for_user(*, user: User) -> QuerySet[Deposit]:
    return Deposit.objects.filter(user=user).order_by("-id")


def _credited(user: User) -> QuerySet[Deposit]:
    return Deposit.objects.filter(user=user, status=Deposit.Status.CREDITED).order_by(
        "-credited_at", "-id"
    )


def last_credited_deposit_id(*, user: User) -> int:
    return _credited(user).values_list("pk", flat=True).first() or 0


def last_credited_deposit(*, user: User) -> Deposit | None:
    return _credited(user).only("pk", "credited_amount", "bonus_amount").first()
