"""The parent's admin of child panels: the list's figures and the state actions."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import ChildPanel, ChildPanelState, User
from tests.child_panels.conftest import child_customer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/accounts/childpanel/"


def test_the_list_shows_customers_and_what_they_hold(
    client: Client, staff: User, child: ChildPanel
) -> None:
    child_customer(child, "carol", funds=Decimal("7.5"))
    child_customer(child, "dave", funds=Decimal("2.5"))
    client.force_login(staff)

    page = client.get(URL)

    assert page.status_code == 200
    row = page.context["cl"].result_list[0]
    assert (row.customer_count, row.orders_in_flight, row.exposure) == (2, 0, Decimal(10))


def test_suspend_and_resume_need_the_change_permission(
    client: Client, staff: User, child: ChildPanel
) -> None:
    viewer = UserFactory(username="viewer", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_childpanel"))
    client.force_login(viewer)
    client.post(URL, {"action": "suspend", "_selected_action": [child.pk]})
    child.refresh_from_db()
    assert child.state == ChildPanelState.ACTIVE

    client.force_login(staff)
    client.post(URL, {"action": "suspend", "_selected_action": [child.pk]})
    child.refresh_from_db()
    assert (child.state, child.suspended_reason) == (ChildPanelState.SUSPENDED, "operator")
    client.post(URL, {"action": "resume", "_selected_action": [child.pk]})
    child.refresh_from_db()
    assert child.state == ChildPanelState.ACTIVE
