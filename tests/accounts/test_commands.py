from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.services import api_key_authenticate


def test_create_reseller_prints_only_the_key_on_its_last_line(db: None) -> None:
    out = StringIO()

    call_command("create_reseller", "shop1", "--balance", "25.00", stdout=out)

    key = out.getvalue().strip().splitlines()[-1]
    user = User.objects.get(username="shop1")
    assert user.is_active and user.balance == Decimal("25")
    assert api_key_authenticate(key=key) == user
    assert list(user.ledger.values_list("amount", flat=True)) == [Decimal("25")]


@pytest.mark.parametrize("balance", ["abc", "-5", "1.1234567"])
def test_create_reseller_rejects_bad_balance_and_creates_nothing(db: None, balance: str) -> None:
    with pytest.raises(CommandError):
        call_command("create_reseller", "shop2", "--balance", balance, stdout=StringIO())
    assert not User.objects.filter(username="shop2").exists()


def test_create_reseller_refuses_an_existing_name(customer: User) -> None:
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_reseller", "alice", stdout=StringIO())


def test_check_ledger_passes_when_balances_match(customer: User) -> None:
    out = StringIO()
    call_command("check_ledger", stdout=out)
    assert "ledger ok" in out.getvalue()


@pytest.mark.ledger_unbalanced
def test_check_ledger_fails_on_a_balance_changed_behind_the_ledger(customer: User) -> None:
    User.objects.filter(pk=customer.pk).update(balance=Decimal("99"))
    err = StringIO()

    with pytest.raises(CommandError, match="1 user"):
        call_command("check_ledger", stderr=err, stdout=StringIO())
    assert "balance 99" in err.getvalue()
