"""The request's host picks the panel; an unknown host is a plain 404, never the parent."""

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from accounts.models import ChildPanel, ChildPanelState, User
from core.errors import InvalidRequest, InvalidTransition
from panel.child_panels.services import child_panel_move
from tests.child_panels.conftest import CHILD_HOST, make_child

pytestmark = pytest.mark.django_db


def test_the_parent_host_serves_the_parent(client: Client, settings: object) -> None:
    response = client.get("/login/")

    assert response.status_code == 200
    assert settings.PANEL_NAME.encode() in response.content  # type: ignore[attr-defined]


def test_an_unknown_host_gets_a_plain_404_never_the_parent(
    client: Client, settings: object
) -> None:
    response = client.get("/login/", HTTP_HOST="nobody.example.org")

    assert response.status_code == 404
    assert b"No panel is served at this address." in response.content
    assert settings.PANEL_NAME.encode() not in response.content  # type: ignore[attr-defined]


def test_a_child_domain_serves_the_child_panel_with_its_name_and_colour(
    client: Client, child: ChildPanel
) -> None:
    page = client.get("/login/", HTTP_HOST=CHILD_HOST.upper() + ":443")
    theme = client.get("/theme.css", HTTP_HOST=CHILD_HOST)

    assert page.status_code == 200
    assert b"Shop child.example.com" in page.content
    assert b"/theme.css" in page.content
    assert theme.content.decode() == f":root {{ --brand: {child.colour}; }}\n"


def test_a_child_panels_admin_is_its_own(client: Client, child: ChildPanel, staff: User) -> None:
    client.force_login(staff)

    # The parent's staff are nobody there: its own admin asks for a login of its own panel,
    # and the parent's admin pages are not among its pages.
    index = client.get("/admin/", HTTP_HOST=CHILD_HOST)
    assert (index.status_code, index["Location"]) == (302, "/admin/login/?next=/admin/")
    assert client.get("/admin/payments/deposit/", HTTP_HOST=CHILD_HOST).status_code in (302, 404)


@pytest.mark.parametrize(
    ("state", "api_error"),
    [
        (ChildPanelState.SUSPENDED, "This panel is suspended"),
        (ChildPanelState.WAITING_DNS, "This panel is not open yet"),
    ],
)
def test_a_panel_not_open_says_so_on_pages_and_refuses_the_api(
    client: Client, owner: User, state: str, api_error: str
) -> None:
    make_child(owner, CHILD_HOST, state=state)

    page = client.get("/services/", HTTP_HOST=CHILD_HOST)
    api = client.post("/api/v2", {"key": "x", "action": "services"}, HTTP_HOST=CHILD_HOST)

    assert page.status_code == 503 and b"Shop child.example.com" in page.content
    assert api.json() == {"error": api_error}


def test_a_deleted_panel_is_an_unknown_host_and_frees_its_domain(
    client: Client, owner: User, child: ChildPanel
) -> None:
    child_panel_move(child_panel_id=child.pk, to=ChildPanelState.DELETED)

    assert client.get("/login/", HTTP_HOST=CHILD_HOST).status_code == 404
    assert make_child(owner, CHILD_HOST).pk != child.pk


def test_every_state_has_its_ways_out_and_deleted_is_final(owner: User) -> None:
    child = make_child(owner, CHILD_HOST, state=ChildPanelState.WAITING_DNS)
    for to in (ChildPanelState.ACTIVE, ChildPanelState.SUSPENDED, ChildPanelState.ACTIVE):
        child = child_panel_move(child_panel_id=child.pk, to=to)
        assert child.state == to
    child_panel_move(child_panel_id=child.pk, to=ChildPanelState.DELETED)

    with pytest.raises(InvalidTransition):
        child_panel_move(child_panel_id=child.pk, to=ChildPanelState.ACTIVE)
    assert not child.link_keys.filter(revoked_at__isnull=True).exists()
    assert not child.providers.filter(is_enabled=True).exists()


def test_a_live_domain_or_the_parents_own_host_cannot_be_taken(
    owner: User, child: ChildPanel
) -> None:
    with pytest.raises(InvalidRequest):
        make_child(owner, CHILD_HOST.upper())
    with pytest.raises(InvalidRequest):
        make_child(owner, "localhost")
    with pytest.raises(InvalidRequest):
        make_child(owner, "not a domain")


def test_caddy_may_get_certificates_for_active_child_domains_only(
    client: Client, owner: User, child: ChildPanel
) -> None:
    make_child(owner, "waiting.example.com", state=ChildPanelState.WAITING_DNS)
    make_child(owner, "paused.example.com", state=ChildPanelState.SUSPENDED)

    def ask(domain: str) -> int:
        return client.get("/tls/allowed", {"domain": domain}, HTTP_HOST="localhost").status_code

    assert ask(CHILD_HOST) == 200
    assert ask("waiting.example.com") == ask("paused.example.com") == 404
    assert ask("nobody.example.org") == ask("") == 404


def test_the_dns_check_opens_a_panel_whose_domain_points_here(
    owner: User, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from panel.child_panels import services

    settings.PANEL_CHILD_PANEL_TARGET = "panel.example.com"  # type: ignore[attr-defined]
    records = {"panel.example.com": {"203.0.113.7"}, "ready.example.com": {"203.0.113.7"}}
    monkeypatch.setattr(services, "_addresses", lambda host: records.get(host, set()))
    ready = make_child(owner, "ready.example.com", state=ChildPanelState.WAITING_DNS)
    later = make_child(owner, "later.example.com", state=ChildPanelState.WAITING_DNS)

    assert services.child_panels_check_dns() == ["ready.example.com"]
    ready.refresh_from_db(), later.refresh_from_db()
    assert (ready.state, later.state) == (ChildPanelState.ACTIVE, ChildPanelState.WAITING_DNS)


def test_create_child_panel_command_provisions_one(owner: User, capsys: object) -> None:
    call_command("create_child_panel", "shop.example.com", "--owner", "OWNER", "--active")

    child = ChildPanel.objects.get(domain="shop.example.com")
    assert (child.owner, child.state, child.name) == (
        owner,
        ChildPanelState.ACTIVE,
        "shop.example.com",
    )
    provider = child.providers.get()
    assert provider.api_url == "http://127.0.0.1:9/api/v2"
    assert child.link_keys.filter(user=owner, revoked_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    "path", ["/add-funds/", "/payments/webhooks/sepay/", "/affiliates/", "/adminapi/v2/"]
)
def test_the_parents_money_in_and_operator_paths_are_not_a_child_panels(
    client: Client, child: ChildPanel, path: str
) -> None:
    assert client.get(path, HTTP_HOST=CHILD_HOST).status_code == 404


def test_a_child_panels_visitors_get_its_language(client: Client, owner: User) -> None:
    from panel.child_panels.services import child_panel_create, child_panel_move

    child = child_panel_create(domain=CHILD_HOST, owner=owner, name="Shop", language="vi")
    child_panel_move(child_panel_id=child.pk, to=ChildPanelState.ACTIVE)

    assert client.get("/login/", HTTP_HOST=CHILD_HOST)["Content-Language"] == "vi"
    assert client.get("/login/")["Content-Language"] == "en"


def test_an_unknown_host_gets_the_apis_json_error_on_the_api(client: Client) -> None:
    response = client.post("/api/v2", {"key": "x", "action": "balance"}, HTTP_HOST="nobody.org")

    assert response.status_code == 400
    assert response.json() == {"error": "Incorrect request"}


def test_a_child_panel_on_a_subdomain_wins_over_the_parents_wildcard(
    client: Client, owner: User, settings: object
) -> None:
    from panel.child_panels import hosts

    settings.PANEL_PARENT_HOSTS = ["testserver", ".example.com"]  # type: ignore[attr-defined]
    hosts.parent_hosts.cache_clear()
    try:
        make_child(owner, "shop.example.com")
        child_page = client.get("/login/", HTTP_HOST="shop.example.com")
        parent_page = client.get("/login/", HTTP_HOST="www.example.com")
    finally:
        hosts.parent_hosts.cache_clear()

    assert b"Shop shop.example.com" in child_page.content
    assert parent_page.status_code == 200 and b"Shop" not in parent_page.content


def test_a_child_panels_pages_never_show_the_parents_support_contacts(
    client: Client, child: ChildPanel
) -> None:
    with override_settings(PANEL_SUPPORT_ZALO="0909 123 456", PANEL_SUPPORT_PHONE="1900 6868"):
        parent = client.get("/login/")
        page = client.get("/login/", HTTP_HOST=CHILD_HOST)

    assert b"zalo.me/0909123456" in parent.content
    assert b"zalo.me" not in page.content
    assert b"tel:19006868" not in page.content


def test_the_host_lookup_reads_the_live_domains_index(child: ChildPanel) -> None:
    from django.db import connection, transaction

    from panel.child_panels.selectors import _live_with_domain

    with transaction.atomic(), connection.cursor() as cursor:
        # A handful of rows: the planner would scan them; what matters is that it can use the
        # index, as it does with 1,000 panels (docs/child-panels.md).
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = _live_with_domain(CHILD_HOST.upper()).explain()
    assert "child_panel_domain_unique_live" in plan


def test_a_process_keeps_its_hosts_and_forgets_them_when_a_panel_moves(
    client: Client,
    child: ChildPanel,
    settings: object,
    django_capture_on_commit_callbacks: object,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from panel.child_panels.hosts import forget_hosts

    settings.PANEL_CHILD_PANEL_HOSTS_CACHE_SECONDS = 60  # type: ignore[attr-defined]
    forget_hosts()
    try:
        assert client.get("/theme.css", HTTP_HOST=CHILD_HOST).status_code == 200
        assert client.get("/theme.css", HTTP_HOST="nobody.example.org").status_code == 404
        with CaptureQueriesContext(connection) as seen:
            assert client.get("/theme.css", HTTP_HOST=CHILD_HOST).status_code == 200
            assert client.get("/theme.css", HTTP_HOST="nobody.example.org").status_code == 404
        # the request's savepoints only (ATOMIC_REQUESTS): no read of a panel
        assert [q["sql"] for q in seen if "SAVEPOINT" not in q["sql"]] == []

        # a move made in this process is served at once: its commit forgets the hosts
        with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
            child_panel_move(child_panel_id=child.pk, to=ChildPanelState.SUSPENDED)
        assert client.get("/login/", HTTP_HOST=CHILD_HOST).status_code == 503
    finally:
        forget_hosts()
