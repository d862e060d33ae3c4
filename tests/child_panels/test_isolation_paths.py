"""Isolation beyond pages: Celery tasks, the cache, throttles, emails' links, the parent's own
words (notices, contacts, its Telegram bot), exports and file uploads."""

import re

import pytest
from django.apps import apps
from django.core import mail
from django.db import models
from django.test import Client

from accounts.models import ChildPanel, User
from core.tenancy import current_panel_id, panel_scope
from notifications.delivery import notifications_deliver
from notifications.services import notify_ticket_answered
from orders.tasks import order_forward_task, provider_poll_task
from panel.models import Notice
from providers.models import Provider
from tests.child_panels.conftest import CHILD_HOST, HOSTS, OTHER_HOST, PARENT_HOST

pytestmark = pytest.mark.django_db


def test_forwarding_and_polling_tasks_run_as_the_panel_of_their_row(
    world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, int | None]] = []

    def forward_spy(*, order_id: int) -> str:
        seen.append(("forward", current_panel_id()))
        return "skipped"

    def poll_spy(*, provider: Provider, **kwargs: object) -> dict:
        seen.append(("poll", current_panel_id()))
        return {}

    monkeypatch.setattr("orders.services.order_forward", forward_spy)
    monkeypatch.setattr("orders.services.provider_poll", poll_spy)
    for host in HOSTS:
        panel: ChildPanel | None = world[host]["panel"]
        order_forward_task(world[host]["order"].pk)
        provider_poll_task(world[host]["order"].provider_id)
        expected = panel.pk if panel else None
        assert seen[-2:] == [("forward", expected), ("poll", expected)], host
        assert current_panel_id() is None  # and the worker is the parent again after it


def test_emails_link_to_the_customers_own_panel_and_name_it(
    world: dict, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.template.loader import render_to_string

    rendered_as: dict[str, set[int | None]] = {}

    def spy(name: str, context: dict) -> str:
        rendered_as.setdefault(context["user"].email, set()).add(current_panel_id())
        return render_to_string(name, context)

    monkeypatch.setattr("notifications.emails.render_to_string", spy)
    settings.PANEL_PUBLIC_URL = "https://parent.example.org"  # type: ignore[attr-defined]
    settings.PANEL_NAME = "Parent Panel"  # type: ignore[attr-defined]
    settings.DEFAULT_FROM_EMAIL = "Parent Panel <noreply@parent.example.org>"  # type: ignore[attr-defined]
    for host in HOSTS:
        alice: User = world[host]["user"]
        notify_ticket_answered(
            ticket_id=world[host]["ticket"].pk,
            message_id=HOSTS.index(host) + 1,
            user_id=alice.pk,
            subject="hi",
        )
    notifications_deliver()

    by_address = {message.to[0]: message for message in mail.outbox}
    for host in HOSTS:
        alice = world[host]["user"]
        message = by_address[alice.email]
        ticket = world[host]["ticket"]
        # the notification task renders each email as its customer's panel
        assert rendered_as[alice.email] == {alice.child_panel_id}
        if alice.child_panel is None:
            assert f"https://parent.example.org/support/{ticket.pk}/" in message.body
            continue
        assert f"https://{alice.child_panel.domain}/support/{ticket.pk}/" in message.body
        assert alice.child_panel.name in message.body
        assert "parent.example.org" not in message.body and "Parent Panel" not in message.body
        # from his panel's name, at the parent's sending address
        assert message.from_email == f'"{alice.child_panel.name}" <noreply@parent.example.org>'


def test_a_password_reset_link_opens_on_its_own_panel_only(world: dict, settings: object) -> None:
    settings.PANEL_NAME = "Parent Panel"  # type: ignore[attr-defined]
    for host in (CHILD_HOST, OTHER_HOST):
        mail.outbox.clear()
        alice: User = world[host]["user"]
        Client(HTTP_HOST=host).post("/password/reset/", {"email": alice.email})
        [message] = mail.outbox
        # his panel's name signs it, never the parent's
        assert alice.child_panel.name in message.body + message.from_email
        assert "Parent Panel" not in message.subject + message.body + message.from_email
        [link] = re.findall(r"https?://\S+/password/reset/\S+/\S+/", message.body)
        assert link.split("/")[2] == host, link
        path = "/" + link.split("/", 3)[3]
        for other in set(HOSTS) - {host}:
            # Django's view moves a valid token into the session and redirects to the form
            answer = Client(HTTP_HOST=other).get(path, follow=True)
            assert b'name="new_password1"' not in answer.content, (host, other)
        answer = Client(HTTP_HOST=host).get(path, follow=True)
        assert b'name="new_password1"' in answer.content


def test_the_login_throttle_counts_each_panels_alice_apart(world: dict, settings: object) -> None:
    settings.PANEL_LOGIN_FAILURES = 2  # type: ignore[attr-defined]
    # the same client address guessing on one child panel…
    for _ in range(3):
        Client(HTTP_HOST=OTHER_HOST, REMOTE_ADDR="10.0.0.9").post(
            "/login/", {"username": "alice", "password": "wrong"}
        )
    locked = Client(HTTP_HOST=OTHER_HOST, REMOTE_ADDR="10.0.0.8")
    locked.post("/login/", {"username": "alice", "password": f"pw-{OTHER_HOST}"})
    assert locked.get("/orders/").status_code == 302  # that panel's alice is locked out
    # …locks out no other panel's alice
    for host in (PARENT_HOST, CHILD_HOST):
        client = Client(HTTP_HOST=host, REMOTE_ADDR="10.0.0.8")
        client.post("/login/", {"username": "alice", "password": f"pw-{host}"})
        assert client.get("/orders/").status_code == 200, host


def test_api_throttles_count_per_account_so_panels_never_share_a_bucket(
    world: dict, settings: object
) -> None:
    from django.core.cache import cache

    settings.PANEL_API_RATE = "2/min"  # type: ignore[attr-defined]
    cache.clear()
    for _ in range(3):
        Client(HTTP_HOST=OTHER_HOST).post(
            "/api/v2", {"key": world[OTHER_HOST]["key"], "action": "balance"}
        )
    for host in (PARENT_HOST, CHILD_HOST):
        answer = Client(HTTP_HOST=host).post(
            "/api/v2", {"key": world[host]["key"], "action": "balance"}
        )
        assert "balance" in answer.json(), host


def test_the_cached_services_answer_is_kept_per_panel(world: dict) -> None:
    # Each answer is cached once built (panel.api.catalog_cache): asked in turn, twice, every
    # panel still gets its own catalog's ids.
    for _ in range(2):
        for host in HOSTS:
            listed = (
                Client(HTTP_HOST=host)
                .post("/api/v2", {"key": world[host]["key"], "action": "services"})
                .json()
            )
            panel = world[host]["panel"]
            with panel_scope(panel.pk if panel else None):
                assert world[host]["service"].pk in {item["service"] for item in listed}
            foreign = {w["service"].pk for h, w in world.items() if h != host}
            assert not foreign & {item["service"] for item in listed}, host


def test_the_parents_notices_contacts_and_bot_are_not_shown_on_a_child_panel(
    world: dict, settings: object
) -> None:
    from notifications.models import TelegramBot

    settings.PANEL_SUPPORT_PHONE = "0912345678"  # type: ignore[attr-defined]
    Notice.objects.update_or_create(
        kind=Notice.Kind.ANNOUNCEMENT,
        defaults={"body_en": "parent-only-news", "body_vi": "parent-only-news", "is_active": True},
    )
    Notice.objects.update_or_create(
        kind=Notice.Kind.TERMS,
        defaults={"body_en": "parent terms", "body_vi": "parent terms", "is_active": True},
    )
    TelegramBot.objects.create(username="ParentBot", is_enabled=True, token_encrypted="x")
    for host in HOSTS:
        client = Client(HTTP_HOST=host)
        client.force_login(world[host]["user"])
        page = client.get("/account/").content.decode()
        is_parent = host == PARENT_HOST
        assert ("parent-only-news" in page) == is_parent, host
        assert ("0912345678" in page) == is_parent, host
        assert ("ParentBot" in page) == is_parent, host
        assert (client.get("/terms/").status_code == 200) == is_parent, host
        linking = client.post("/account/telegram/").status_code
        assert (linking == 404) == (not is_parent), (host, linking)


def test_no_model_keeps_uploaded_files_and_no_view_exports(world: dict) -> None:
    # Uploads would need a per-panel storage path and exports a per-panel query: the panel has
    # neither (no file field, no CSV answer); a new one must prove its own isolation here.
    file_fields = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    ]
    assert file_fields == []
    from tests.child_panels.test_isolation_walk import _routes

    for host in HOSTS:
        client = Client(HTTP_HOST=host)
        client.force_login(world[host]["user"])
        for name, path, slots in _routes():
            if slots or name.startswith("admin:") or name == "logout":
                continue
            answer = client.get(path)
            assert "csv" not in answer.get("Content-Type", ""), name
            assert "attachment" not in answer.get("Content-Disposition", ""), name


def test_one_panels_catalog_moving_leaves_anothers_version_alone(world: dict) -> None:
    # The API keeps each panel's `services` answer until that panel's catalog moves: another
    # panel's sync must neither rebuild it nor make reading the version cost its rows.
    from django.utils import timezone

    from providers.models import Service
    from providers.selectors import catalog_version

    def version(host: str) -> tuple:
        panel = world[host]["panel"]
        with panel_scope(panel.pk if panel else None):
            return catalog_version()

    before = {host: version(host) for host in HOSTS}
    Service.objects.filter(pk=world[OTHER_HOST]["service"].pk).update(
        name="renamed", updated_at=timezone.now()
    )
    after = {host: version(host) for host in HOSTS}
    assert after[OTHER_HOST] != before[OTHER_HOST]
    assert after[PARENT_HOST] == before[PARENT_HOST]
    assert after[CHILD_HOST] == before[CHILD_HOST]


def test_a_sync_prices_with_its_own_panels_categories_only(world: dict) -> None:
    # Another panel's category markup never prices this panel's catalog, and a sync's cost
    # does not grow with the number of panels (docs/child-panels.md).
    from providers.models import Category
    from providers.services.catalog.items import Pricing

    for host in HOSTS:
        panel = world[host]["panel"]
        provider = Provider.objects.get(pk=world[host]["order"].provider_id)
        pricing = Pricing([provider])
        assert set(pricing.categories) == set(
            Category.objects.filter(child_panel=panel).values_list("pk", flat=True)
        ), host


def test_emails_give_amounts_in_the_customers_panel_currency(owner: User, settings: object) -> None:
    from decimal import Decimal

    from notifications.services import notify_deposit_credited
    from panel.child_panels.services import child_panel_create
    from tests.child_panels.conftest import child_customer

    settings.PANEL_CURRENCY = "USD"  # type: ignore[attr-defined]
    settings.PANEL_VND_RATE = "25000"  # type: ignore[attr-defined]
    shop = child_panel_create(domain="shop.example.vn", owner=owner, name="Shop", currency="VND")
    carol = child_customer(shop, "carol", email="carol@example.vn")
    notify_deposit_credited(deposit_id=1, user_id=carol.pk, amount=Decimal(500000))
    notify_deposit_credited(deposit_id=2, user_id=owner.pk, amount=Decimal(20))
    notifications_deliver()

    by_address = {message.to[0]: message for message in mail.outbox}
    assert "₫" in by_address["carol@example.vn"].subject
    assert "$" not in by_address["carol@example.vn"].body
    assert "₫" not in by_address[owner.email].subject
