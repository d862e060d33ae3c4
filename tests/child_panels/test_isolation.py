"""Nothing of one panel is visible or writable from another: accounts, logins, sessions, API
keys, the catalog, orders and tickets (pages and /api/v2), and the admin."""

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from accounts.models import ChildPanel, User
from orders.models import CancelRequest, Order
from providers.models import Service
from support.models import Ticket
from tests.child_panels.conftest import CHILD_HOST, OTHER_HOST, PARENT_HOST

pytestmark = pytest.mark.django_db


def _client(host: str) -> Client:
    return Client(HTTP_HOST=host)


def test_one_name_is_three_accounts_and_each_logs_in_on_its_own_panel_only(world: dict) -> None:
    for host in (PARENT_HOST, CHILD_HOST, OTHER_HOST):
        for password_of in (PARENT_HOST, CHILD_HOST, OTHER_HOST):
            client = _client(host)
            client.post("/login/", {"username": "alice", "password": f"pw-{password_of}"})
            logged_in = client.get("/orders/").status_code == 200
            assert logged_in == (host == password_of), (host, password_of)


def test_a_session_of_one_panel_is_nobody_on_another(world: dict) -> None:
    client = Client()
    client.force_login(world[CHILD_HOST]["user"])

    assert client.get("/orders/", HTTP_HOST=CHILD_HOST).status_code == 200
    for host in (PARENT_HOST, OTHER_HOST):
        assert client.get("/orders/", HTTP_HOST=host).status_code == 302  # to the login page


def test_a_key_works_on_its_own_panel_only(world: dict) -> None:
    for host in (PARENT_HOST, CHILD_HOST, OTHER_HOST):
        for key_of in (PARENT_HOST, CHILD_HOST, OTHER_HOST):
            answer = (
                _client(host)
                .post("/api/v2", {"key": world[key_of]["key"], "action": "balance"})
                .json()
            )
            assert ("error" in answer) == (host != key_of), (host, key_of)


def test_each_panel_sells_its_own_catalog_only(world: dict) -> None:
    for host in (PARENT_HOST, CHILD_HOST, OTHER_HOST):
        listed = (
            _client(host).post("/api/v2", {"key": world[host]["key"], "action": "services"}).json()
        )
        mine = {
            s.pk
            for s in Service.objects.filter(provider__child_panel=world[host]["user"].child_panel)
        }
        assert {item["service"] for item in listed} == mine
        for other in {PARENT_HOST, CHILD_HOST, OTHER_HOST} - {host}:
            foreign = world[other]["service"]
            answer = (
                _client(host)
                .post(
                    "/api/v2",
                    {
                        "key": world[host]["key"],
                        "action": "add",
                        "service": foreign.pk,
                        "link": "https://instagram.com/p/x",
                        "quantity": foreign.min,
                    },
                )
                .json()
            )
            assert answer == {"error": "Incorrect service ID"}


def test_orders_and_tickets_of_one_panel_are_invisible_and_unwritable_from_another(
    world: dict,
) -> None:
    for host in (PARENT_HOST, CHILD_HOST, OTHER_HOST):
        client = _client(host)
        client.force_login(world[host]["user"])
        for other in {PARENT_HOST, CHILD_HOST, OTHER_HOST} - {host}:
            order: Order = world[other]["order"]
            ticket: Ticket = world[other]["ticket"]
            assert client.get(f"/orders/{order.pk}/").status_code == 404
            client.post(f"/orders/{order.pk}/cancel/")
            assert client.get(f"/support/{ticket.pk}/").status_code == 404
            client.post(f"/support/{ticket.pk}/close/")
            assert str(order.link).encode() not in client.get("/orders/").content
            status = client.post(
                "/api/v2", {"key": world[host]["key"], "action": "status", "order": order.pk}
            ).json()
            assert status == {"error": "Incorrect order ID"}
    # and nothing written from the wrong panel took: no order asked to cancel, no ticket closed
    assert not CancelRequest.objects.exists()
    assert set(Ticket.objects.values_list("status", flat=True)) == {"open"}


def test_the_parents_staff_are_nobody_in_a_child_panels_admin(world: dict, staff: User) -> None:
    # A child panel's own admin is tested in test_owner_admin.py.
    client = _client(CHILD_HOST)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/orders/order/").status_code == 302


def test_signing_up_on_a_child_panel_makes_its_own_account(
    child: ChildPanel, customer: User, settings: object
) -> None:
    settings.PANEL_REQUIRE_EMAIL_CONFIRMATION = False  # type: ignore[attr-defined]
    client = _client(CHILD_HOST)
    signup = {
        "username": "alice",  # the parent's alice's name and address: another account here
        "email": customer.email,
        "password1": "a-long-pass-phrase-9",
        "password2": "a-long-pass-phrase-9",
    }

    assert client.post("/signup/", signup).status_code == 302

    mine = User.objects.get(child_panel=child)
    assert mine.username == "alice" and mine.pk != customer.pk
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/dashboard/", HTTP_HOST=PARENT_HOST).status_code == 302


def test_a_child_panels_confirmation_mail_carries_its_name_not_the_parents(
    child: ChildPanel, settings: object, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PANEL_REQUIRE_EMAIL_CONFIRMATION = True  # type: ignore[attr-defined]
    settings.PANEL_NAME = "Parent Panel"  # type: ignore[attr-defined]
    signup = {
        "username": "bea",
        "email": "bea@example.com",
        "password1": "a-long-pass-phrase-9",
        "password2": "a-long-pass-phrase-9",
    }

    with django_capture_on_commit_callbacks(execute=True):
        _client(CHILD_HOST).post("/signup/", signup)

    [message] = mail.outbox
    assert child.name in message.subject + message.body + message.from_email
    assert "Parent Panel" not in message.subject + message.body + message.from_email
