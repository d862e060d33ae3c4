"""A child panel's own admin: its owner and his staff see and change their panel's rows only, in
every list, form, lookup, autocomplete and action; staff get the roles granted and no more; a
child's account opens no other admin; and the owner's catalog edits reach his pages and his
/api/v2 at once and survive the next sync."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import BalanceTransaction, ChildPanel, User
from accounts.services import api_key_create
from core.tenancy import panel_scope
from orders.models import Order
from orders.services import order_place
from providers.markup import Markup, selling_rate
from providers.models import Category, Provider, Service
from providers.services import catalog_sync
from sandbox import SandboxServer
from support.models import Ticket
from support.services import ticket_open
from tests.child_panels.conftest import CHILD_HOST, OTHER_HOST, child_customer

pytestmark = pytest.mark.django_db

PARENT_HOST = "testserver"
PASSWORD = "a-long-pass-phrase-9"
LISTS = (
    "accounts/user",
    "accounts/childpanelstaff",
    "orders/order",
    "support/ticket",
    "providers/service",
    "providers/category",
    "providers/provider",
)


def _owner_login(panel: ChildPanel, username: str = "boss") -> User:
    from panel.child_panels.staff import child_panel_owner_login_create

    return child_panel_owner_login_create(child=panel, username=username, password=PASSWORD)


@pytest.fixture
def world(
    owner: User,
    child: ChildPanel,
    other_child: ChildPanel,
    catalog: Provider,
    sandbox: SandboxServer,
) -> dict:
    """Three panels, each with an "alice", her order and ticket; each child with its owner's
    login "boss" and its catalog synced (from the sandbox: the chain is test_chain's)."""
    found: dict = {}
    for host, panel in ((PARENT_HOST, None), (CHILD_HOST, child), (OTHER_HOST, other_child)):
        if panel is not None:
            linked = Provider.objects.get(child_panel=panel)
            linked.api_url, linked.api_key = sandbox.url, "sandbox-key"
            linked.save()
            catalog_sync(provider=linked)
        with panel_scope(panel.pk if panel else None):
            alice = child_customer(panel, "alice", password=PASSWORD, funds=Decimal(50))
            service = Service.objects.on_sale().filter(type="Default").order_by("pk").first()
            order = order_place(
                user=alice,
                service_id=service.pk,
                fields={"link": f"https://instagram.com/p/{host}", "quantity": str(service.min)},
            )
            ticket = ticket_open(user=alice, kind="other", subject=f"hi {host}", message="help")
        found[host] = {
            "panel": panel,
            "alice": alice,
            "service": service,
            "order": order,
            "ticket": ticket,
            "boss": _owner_login(panel) if panel else None,
        }
    return found


def _as(user: User, host: str) -> Client:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


def _rows(client: Client, path: str, query: str = "") -> set[int]:
    page = client.get(f"/admin/{path}/{query}")
    assert page.status_code == 200, (path, page.status_code)
    return {row.pk for row in page.context["cl"].result_list}


def _theirs(world: dict, host: str) -> dict[str, set[int]]:
    panel = world[host]["panel"]
    return {
        "accounts/user": {world[host]["alice"].pk},
        "accounts/childpanelstaff": {world[host]["boss"].pk},
        "orders/order": {world[host]["order"].pk},
        "support/ticket": {world[host]["ticket"].pk},
        "providers/service": set(
            Service.objects.filter(provider__child_panel=panel).values_list("pk", flat=True)
        ),
        "providers/category": set(
            Category.objects.filter(child_panel=panel).values_list("pk", flat=True)
        ),
        "providers/provider": {Provider.objects.get(child_panel=panel).pk},
    }


def test_the_owner_sees_his_panel_only_in_every_list_search_and_filter(world: dict) -> None:
    client = _as(world[CHILD_HOST]["boss"], CHILD_HOST)
    mine = _theirs(world, CHILD_HOST)

    for path in LISTS:
        assert _rows(client, path) == mine[path], path
    assert _rows(client, "accounts/user", "?q=alice") == mine["accounts/user"]
    assert _rows(client, "orders/order", "?q=alice") == mine["orders/order"]
    # The category filter offers his categories (those with services) only, by id.
    page = client.get("/admin/providers/service/")
    offered = {
        str(choice["query_string"]).rsplit("=", 1)[-1]
        for spec in page.context["cl"].filter_specs
        if getattr(spec, "field_path", "") == "category"
        for choice in spec.choices(page.context["cl"])
        if "category__id__exact" in str(choice["query_string"])
    }
    assert offered and offered <= {str(pk) for pk in mine["providers/category"]}


def test_another_panels_rows_open_nothing_and_take_no_action(world: dict) -> None:
    client = _as(world[CHILD_HOST]["boss"], CHILD_HOST)
    theirs = {**_theirs(world, OTHER_HOST)}
    theirs["parent orders/order"] = {world[PARENT_HOST]["order"].pk}

    for path, pks in theirs.items():
        path = path.removeprefix("parent ")
        for pk in pks:
            page = client.get(f"/admin/{path}/{pk}/change/")
            # Django's admin answers a row it cannot find with a redirect to the index.
            assert page.status_code == 302, (path, pk)
    their_service = world[OTHER_HOST]["service"]
    client.post(
        "/admin/providers/service/",
        {"action": "take_off_sale", "_selected_action": [their_service.pk]},
    )
    their_alice = world[OTHER_HOST]["alice"]
    client.post("/admin/accounts/user/", {"action": "block", "_selected_action": [their_alice.pk]})
    their_ticket = world[OTHER_HOST]["ticket"]
    client.post(
        "/admin/support/ticket/", {"action": "close", "_selected_action": [their_ticket.pk]}
    )
    assert (
        client.post(f"/admin/support/ticket/{their_ticket.pk}/reply/", {"body": "x"}).status_code
        == 404
    )
    assert client.get(f"/admin/accounts/user/{their_alice.pk}/add-funds/").status_code == 404
    their_order = world[OTHER_HOST]["order"]
    assert client.get(f"/admin/orders/order/{their_order.pk}/resolve/").status_code == 404
    held = Service.objects.get(pk=their_service.pk)
    assert client.get(f"/admin/providers/service/{held.pk}/resolve-hold/").status_code == 404

    their_service.refresh_from_db()
    their_alice.refresh_from_db()
    their_ticket.refresh_from_db()
    assert their_service.is_enabled and their_alice.is_active and their_ticket.status == "open"
    assert not their_ticket.messages.filter(is_staff=True).exists()


def test_autocomplete_answers_with_the_panels_rows_only(world: dict) -> None:
    client = _as(world[CHILD_HOST]["boss"], CHILD_HOST)

    found = client.get(
        "/admin/autocomplete/",
        {"app_label": "orders", "model_name": "order", "field_name": "user", "term": "alice"},
    ).json()
    services = client.get(
        "/admin/autocomplete/",
        {"app_label": "orders", "model_name": "order", "field_name": "service", "term": ""},
    ).json()

    assert [row["id"] for row in found["results"]] == [str(world[CHILD_HOST]["alice"].pk)]
    ids = {int(row["id"]) for row in services["results"]}
    assert ids and ids <= _theirs(world, CHILD_HOST)["providers/service"]


def test_the_owner_adds_funds_and_blocks_his_customer(world: dict) -> None:
    boss, alice = world[CHILD_HOST]["boss"], world[CHILD_HOST]["alice"]
    client = _as(boss, CHILD_HOST)
    alice.refresh_from_db()
    before = alice.balance
    owner = User.objects.get(pk=world[CHILD_HOST]["panel"].owner_id)

    client.post(f"/admin/accounts/user/{alice.pk}/add-funds/", {"amount": "12.5"})
    client.post("/admin/accounts/user/", {"action": "block", "_selected_action": [alice.pk]})

    alice.refresh_from_db()
    assert alice.balance == before + Decimal("12.5") and not alice.is_active
    entry = BalanceTransaction.objects.filter(user=alice).latest("pk")
    assert (entry.kind, entry.created_by_id) == (BalanceTransaction.Kind.DEPOSIT, boss.pk)
    # The owner's own balance at the parent is not touched by it.
    assert User.objects.get(pk=owner.pk).balance == owner.balance


def test_his_accounts_are_called_customers_in_his_own_language(world: dict) -> None:
    boss, alice = world[CHILD_HOST]["boss"], world[CHILD_HOST]["alice"]
    client = _as(boss, CHILD_HOST)
    client.cookies["django_language"] = "vi"

    pages = [
        client.get(url).content.decode()
        for url in ("/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{alice.pk}/change/")
    ]

    assert all("Khách hàng" in page for page in pages)
    # titles, menu, breadcrumbs and the list's count ("1 khách hàng"); Django's own help text
    # of "active" still says "người dùng" in a sentence
    assert not any(re.search(r"Người dùng|\d+ người dùng", page) for page in pages)
    assert re.search(r"\d+ khách hàng", pages[1])


def _staff(granted_by: User, username: str, roles: list[str]) -> User:
    from panel.child_panels.staff import child_panel_staff_create

    with panel_scope(granted_by.child_panel_id):
        return child_panel_staff_create(
            granted_by=granted_by, username=username, password=PASSWORD, roles=roles
        )


def test_a_staff_member_gets_his_roles_and_is_refused_the_rest(world: dict) -> None:
    clerk = _staff(world[CHILD_HOST]["boss"], "clerk", ["orders", "support"])
    client = _as(clerk, CHILD_HOST)
    alice = world[CHILD_HOST]["alice"]

    assert _rows(client, "orders/order") == {world[CHILD_HOST]["order"].pk}
    assert _rows(client, "support/ticket") == {world[CHILD_HOST]["ticket"].pk}
    for path in (
        "accounts/user",
        "providers/service",
        "providers/provider",
        "accounts/childpanelstaff",
    ):
        assert client.get(f"/admin/{path}/").status_code == 403, path
    assert client.get(f"/admin/accounts/user/{alice.pk}/add-funds/").status_code == 403
    client.post("/admin/accounts/user/", {"action": "block", "_selected_action": [alice.pk]})
    alice.refresh_from_db()
    assert alice.is_active


def test_nobody_grants_a_role_he_does_not_hold(world: dict) -> None:
    from core.errors import InvalidRequest
    from panel.child_panels.staff import child_panel_staff_update

    manager = _staff(world[CHILD_HOST]["boss"], "manager", ["staff", "orders"])
    client = _as(manager, CHILD_HOST)
    add = {"username": "helper", "password": PASSWORD, "is_active": "on"}

    refused = client.post("/admin/accounts/childpanelstaff/add/", {**add, "roles": ["catalog"]})
    granted = client.post("/admin/accounts/childpanelstaff/add/", {**add, "roles": ["orders"]})

    assert refused.status_code == 200 and "roles" in refused.context["adminform"].form.errors
    assert granted.status_code == 302
    helper = User.objects.get(username="helper")
    assert helper.child_panel_id == world[CHILD_HOST]["panel"].pk and helper.is_staff
    with panel_scope(helper.child_panel_id):
        assert helper.get_all_permissions() == {"orders.view_order", "orders.change_order"}
        boss = world[CHILD_HOST]["boss"]
        with pytest.raises(InvalidRequest):
            child_panel_staff_update(
                granted_by=manager, staff_id=boss.pk, roles=[], is_active=False
            )
        with pytest.raises(InvalidRequest):
            child_panel_staff_update(
                granted_by=manager, staff_id=helper.pk, roles=["catalog"], is_active=True
            )
    # The owner's login is shown, never changed, by his staff.
    page = client.get(f"/admin/accounts/childpanelstaff/{world[CHILD_HOST]['boss'].pk}/change/")
    assert page.status_code == 200 and not page.context["has_change_permission"]


def test_a_permission_row_outside_the_roles_counts_for_nothing(world: dict) -> None:
    from django.contrib.auth.models import Permission

    clerk = _staff(world[CHILD_HOST]["boss"], "clerk", ["orders"])
    clerk.user_permissions.add(Permission.objects.get(codename="add_provider"))

    with panel_scope(clerk.child_panel_id):
        assert not User.objects.get(pk=clerk.pk).has_perm("providers.add_provider")
    with panel_scope(None):
        assert not User.objects.get(pk=clerk.pk).has_perm("orders.view_order")


def test_child_staff_open_neither_the_parents_admin_nor_another_panels(world: dict) -> None:
    boss = world[CHILD_HOST]["boss"]
    for host in (PARENT_HOST, OTHER_HOST):
        client = Client(HTTP_HOST=host)
        client.post("/admin/login/", {"username": "boss", "password": "wrong-" + PASSWORD})
        assert client.get("/admin/").status_code == 302
        # His session carried there is nobody; the parent's own site refuses him as well.
        client.force_login(boss)
        assert client.get("/admin/").status_code == 302, host
        assert client.get("/admin/orders/order/").status_code == 302, host
    # Logging in with his own password on the parent's host opens nothing either.
    parent = Client(HTTP_HOST=PARENT_HOST)
    parent.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    assert parent.get("/admin/").status_code == 302
    # And the parent's staff are nobody in a child's admin.
    own = Client(HTTP_HOST=CHILD_HOST)
    own.post("/admin/login/", {"username": "boss", "password": PASSWORD})
    assert own.get("/admin/").status_code == 200


def test_the_parent_admin_site_refuses_a_child_account_itself(world: dict, rf: object) -> None:
    from django.contrib import admin

    request = rf.get("/admin/")  # type: ignore[attr-defined]
    request.user = world[CHILD_HOST]["boss"]
    assert not admin.site.has_permission(request)


def test_the_parents_admin_still_sees_every_panel(world: dict, staff: User) -> None:
    client = _as(staff, PARENT_HOST)

    orders = _rows(client, "orders/order")
    users = _rows(client, "accounts/user", "?q=alice")

    assert {world[h]["order"].pk for h in (PARENT_HOST, CHILD_HOST, OTHER_HOST)} <= orders
    assert {world[h]["alice"].pk for h in (PARENT_HOST, CHILD_HOST, OTHER_HOST)} <= users


def _api_services(key: str) -> dict[int, dict]:
    answer = Client(HTTP_HOST=CHILD_HOST).post("/api/v2", {"key": key, "action": "services"})
    return {int(row["service"]): row for row in answer.json()}


def _change(client: Client, path: str, pk: int, data: dict) -> None:
    response = client.post(f"/admin/{path}/{pk}/change/", data)
    assert response.status_code == 302, (
        response.context and response.context["adminform"].form.errors
    )


def test_hiding_renaming_and_markup_reach_pages_and_api_and_survive_a_sync(world: dict) -> None:
    panel = world[CHILD_HOST]["panel"]
    client = _as(world[CHILD_HOST]["boss"], CHILD_HOST)
    key = api_key_create(user=world[CHILD_HOST]["alice"])
    linked = Provider.objects.get(child_panel=panel)
    services = list(
        Service.objects.filter(provider=linked, is_enabled=True, type="Default").order_by("pk")
    )
    renamed, hidden, by_category = services[0], services[1], services[2]
    # A name no other service has, to look for on the page once it is hidden.
    Service.objects.filter(pk=hidden.pk).update(name_override="Dịch vụ sẽ ẩn")
    assert "Dịch vụ sẽ ẩn" in Client(HTTP_HOST=CHILD_HOST).get("/services/").content.decode()
    assert {renamed.pk, hidden.pk} <= set(_api_services(key))  # cached before the edits

    _change(
        client,
        "providers/service",
        renamed.pk,
        {
            "name_override": "Likes thật VN",
            "description_vi": "",
            "description_en": "",
            "markup_percent": "50",
            "markup_fixed": "",
            "is_enabled": "on",
            "sort_order": "0",
        },
    )
    client.post(
        "/admin/providers/service/", {"action": "take_off_sale", "_selected_action": [hidden.pk]}
    )
    category = by_category.category
    _change(
        client,
        "providers/category",
        category.pk,
        {
            "name_vi": "Dịch vụ của tôi",
            "name_en": "My services",
            "sort_order": "0",
            "markup_percent": "40",
            "markup_fixed": "",
        },
    )
    _change(client, "providers/provider", linked.pk, {"markup_percent": "30", "markup_fixed": "0"})

    def expected(service: Service, percent: int) -> Decimal:
        service.refresh_from_db()
        return selling_rate(
            upstream_rate=service.upstream_rate,
            exchange_rate=linked.exchange_rate,
            markup=Markup(percent=Decimal(percent), fixed=Decimal(0)),
        )

    def check() -> None:
        listed = _api_services(key)
        assert hidden.pk not in listed
        assert listed[renamed.pk]["name"] == "Likes thật VN"
        assert Decimal(listed[renamed.pk]["rate"]) == expected(renamed, 50)
        if by_category.category_id != renamed.category_id:
            assert Decimal(listed[by_category.pk]["rate"]) == expected(by_category, 40)
        others = [
            s
            for s in services[3:]
            if s.category_id not in (renamed.category_id, by_category.category_id)
        ]
        if others:
            assert Decimal(listed[others[0].pk]["rate"]) == expected(others[0], 30)
        page = Client(HTTP_HOST=CHILD_HOST).get("/services/")
        text = page.content.decode()
        assert "Likes thật VN" in text and "Dịch vụ sẽ ẩn" not in text

    check()
    catalog_sync(provider=linked)
    check()
    assert Order.objects.count() == 3 and Ticket.objects.count() == 3


def test_every_page_of_a_child_panels_admin_reads_in_vietnamese(world: dict) -> None:
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat
    from django.utils import translation
    from django.utils.functional import Promise
    from django.utils.text import capfirst

    from panel.child_panels.owner_admin import site
    from tests.panel.test_admin_vietnamese import _names_of, admin_text
    from tests.panel.test_languages import _english_fragments, _english_on

    boss = world[CHILD_HOST]["boss"]
    User.objects.filter(pk=boss.pk).update(language="vi")
    # The sandbox's catalog is named in English (stored words, shown as they are): named here
    # as a Vietnamese panel's would be, so the check reads the admin's own words only.
    panel = world[CHILD_HOST]["panel"]
    Service.objects.filter(provider__child_panel=panel).update(
        name=Concat(Value("Dịch vụ "), Cast("pk", CharField()))
    )
    Category.objects.filter(child_panel=panel).update(
        name=Concat(Value("Chuyên mục "), Cast("pk", CharField()))
    )
    lazy = [
        name
        for model, model_admin in site._registry.items()
        for name in _names_of(model, model_admin)
        if isinstance(name, Promise)
    ]
    with translation.override("en"):
        english = [str(name) for name in lazy]
    with translation.override("vi"):
        vietnamese = [str(name) for name in lazy]
    fragments = _english_fragments()
    names = sorted(
        {
            capfirst(en)
            for en, vi in zip(english, vietnamese, strict=True)
            if en.lower() != vi.lower()
        }
    )
    mine = _theirs(world, CHILD_HOST)
    alice = world[CHILD_HOST]["alice"]
    client = _as(boss, CHILD_HOST)
    urls = [
        "/admin/",
        f"/admin/accounts/user/{alice.pk}/add-funds/",
        "/admin/accounts/childpanelstaff/add/",
    ]
    for path in LISTS:
        urls += [f"/admin/{path}/", f"/admin/{path}/{min(mine[path])}/change/"]

    english_on = {}
    for url in urls:
        page = client.get(url)
        assert page.status_code == 200, url
        if found := _english_on(admin_text(page.content.decode()), names + fragments):
            english_on[url] = found

    assert english_on == {}
    assert "Vận hành web con của bạn" in admin_text(client.get("/admin/").content.decode())
