"""`manage.py child_panel_login DOMAIN LOGIN`: the way into its own admin for a panel that was
made without an owner login (before the admin existed, or by a command without --login)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import ChildPanel, User
from tests.child_panels.conftest import CHILD_HOST, child_customer


def _run(*args: str) -> list[str]:
    out = StringIO()
    call_command("child_panel_login", *args, stdout=out)
    return out.getvalue().splitlines()


def test_a_new_login_is_made_on_the_panel_with_its_password_printed_once(
    child: ChildPanel,
) -> None:
    assert child.owner_login_id is None
    lines = _run(CHILD_HOST, "boss")
    password = lines[-1].rsplit(" ", 1)[1]
    child.refresh_from_db()
    login = User.objects.get(pk=child.owner_login_id)
    assert (login.username, login.child_panel_id, login.is_staff) == ("boss", child.pk, True)
    client = Client(HTTP_HOST=CHILD_HOST)
    client.post("/admin/login/", {"username": "boss", "password": password})
    assert client.get("/admin/").status_code == 200
    # The parent's host knows no "boss": the login is the panel's alone.
    parent = Client()
    parent.post("/admin/login/", {"username": "boss", "password": password})
    assert parent.get("/admin/").status_code == 302


def test_an_existing_account_of_the_panel_becomes_the_login_and_keeps_its_password(
    child: ChildPanel,
) -> None:
    parents_lan = child_customer(None, "lan")
    kept = child_customer(child, "lan", password="lan-own-pass-phrase-1")
    lines = _run(CHILD_HOST, "LAN")
    assert lines == [f"{CHILD_HOST}: owner login lan"]  # no password: it keeps its own
    child.refresh_from_db()
    assert child.owner_login_id == kept.pk
    # The parent customer of the same name is untouched: names are per panel.
    parents_lan.refresh_from_db()
    assert not parents_lan.is_staff


def test_an_unknown_domain_is_refused_and_changes_nothing(child: ChildPanel) -> None:
    with pytest.raises(CommandError, match="No child panel"):
        _run("nowhere.example", "boss")
    assert not User.objects.filter(username="boss").exists()
