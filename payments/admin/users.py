"""Admin: manual deposits from the user page."""

from decimal import Decimal
from typing import cast

from django.contrib import admin
from django.http import HttpRequest

from accounts.admin import UserAdmin
from accounts.models import User
from payments.services import deposit_create_manual


class PaymentsUserAdmin(UserAdmin):
    """The user page's "Add funds" records a manual deposit (with its ledger line)."""

    def record_deposit(
        self, request: HttpRequest, *, user: User, amount: Decimal, memo: str
    ) -> None:
        # The admin site lets only signed-in staff this far.
        admin_user = cast(User, request.user)
        deposit_create_manual(user_id=user.pk, amount=amount, memo=memo, admin=admin_user)


admin.site.unregister(User)
admin.site.register(User, PaymentsUserAdmin)
