"""The child-panel chain under chaos: a child panel served by the run's own gunicorn, whose one
provider is the parent's own /api/v2 (docs/child-panels.md). Its customers order through its
host (API and web forms); its forwarding places the owner's order at the parent, which forwards
that one to the faulty sandbox. The kills hit the workers, web and database both levels share."""

from dataclasses import dataclass
from decimal import Decimal

from bench.chaos.load import CUSTOMER_BALANCE, PASSWORD, RESELLER_BALANCE, Account, Mode
from bench.chaos.stack import CHILD_DOMAIN, Stack

OWNER_BALANCE = Decimal("1000000.00")
CHILD_MARKUP_PERCENT = Decimal(25)
# Client numbers of the child's customers: their links (chaos-<number>-…) never meet the
# parent's own clients' links.
CHILD_NUMBERS = 50


@dataclass(frozen=True)
class ChildPanelRun:
    child_panel_id: int
    owner: Account
    resellers: list[Account]
    customers: list[Account]


def child_provision(stack: Stack, mode: Mode) -> ChildPanelRun:
    """The owner (a parent customer with a balance his child's orders are bought from), his
    active child panel on CHILD_DOMAIN, its catalog synced from the parent's API as he sees
    it, and the child's own customers: API resellers and customers in the browser."""
    from accounts.models import ChildPanelState
    from accounts.services import api_key_create, user_create_customer
    from core.tenancy import panel_scope
    from panel.child_panels.services import child_panel_create, child_panel_move
    from providers.models import Provider
    from providers.services import catalog_sync

    owner = user_create_customer(
        username="chaos-owner", email="chaos-owner@example.com", balance=OWNER_BALANCE
    )
    child = child_panel_create(
        domain=CHILD_DOMAIN, owner=owner, name="Chaos child", markup_percent=CHILD_MARKUP_PERCENT
    )
    child_panel_move(child_panel_id=child.pk, to=ChildPanelState.ACTIVE)
    catalog_sync(provider=Provider.objects.get(child_panel=child))

    def account(name: str, balance: Decimal, password: str | None) -> Account:
        with panel_scope(child.pk):
            user = user_create_customer(
                username=name,
                email=f"{name}@child.example.com",
                password=password,
                balance=balance,
            )
        return Account(name, api_key_create(user=user), user.pk)

    resellers = [
        account(f"chaos-child-reseller-{n}", RESELLER_BALANCE, None)
        for n in range(mode.child_resellers)
    ]
    customers = [
        account(f"chaos-child-customer-{n}", CUSTOMER_BALANCE, PASSWORD)
        for n in range(mode.child_customers)
    ]
    return ChildPanelRun(
        child_panel_id=child.pk,
        owner=Account(owner.username, "", owner.pk),
        resellers=resellers,
        customers=customers,
    )
