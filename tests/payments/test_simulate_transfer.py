"""`manage.py simulate_transfer` posts a signed webhook to a running panel."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from tests.factories import UserFactory


@pytest.mark.usefixtures("bank")
@pytest.mark.parametrize("gateway", ["sepay", "casso"])
def test_simulate_transfer_credits_the_user_through_the_running_panel(
    live_server: object, transactional_db: None, gateway: str
) -> None:
    user = UserFactory(username="demo")
    out = StringIO()
    call_command(
        "simulate_transfer", "demo", "100000", url=live_server.url, gateway=gateway, stdout=out
    )
    assert "-> 200" in out.getvalue()
    assert User.objects.get(pk=user.pk).balance == Decimal("4")
