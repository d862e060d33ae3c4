"""Isolation proved by walking everything: every model of the project is either scoped to a
panel (it reaches a panel through an account or a provider) or listed below as global with the
reason, and every URL of the project, requested on one panel's host by its customer with
another panel's object ids, shows nothing of the other panel and changes none of its rows.

New models and views are walked without being named here: a model with no way to a panel fails
until it is scoped or listed, a view with an id of an unknown kind is tried with every kind of
the other panel's ids."""

import re
from collections.abc import Iterator
from functools import reduce
from operator import or_

import pytest
from django.apps import apps
from django.db.models import Model, Q
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

from accounts.models import ChildPanel, User
from notifications.models import Notification
from providers.models import Product, Provider
from tests.child_panels.conftest import CHILD_HOST, HOSTS, PARENT_HOST, marker

pytestmark = pytest.mark.django_db

# Models that belong to no panel, and why nothing of a panel can leak through them.
GLOBAL_MODELS = {
    "auth.Permission": "Django's permission names, the same for every panel",
    "auth.Group": (
        "the parent's operator groups: a child panel's staff hold roles as permissions of "
        "their own, never groups (accounts/backends.py)"
    ),
    "contenttypes.ContentType": "Django's registry of models",
    "sessions.Session": (
        "a session names a user id only; the authentication backend finds that user on the "
        "panel it logged in to only (accounts/backends.py, test_isolation)"
    ),
    "accounts.PricingTier": "the parent's ranks: a child panel's customers hold none",
    "accounts.Coupon": "the parent's deposit coupons, redeemed on /add-funds/ (parent only)",
    "notifications.TelegramBot": "the parent's bot: /telegram/ is the parent's only",
    "payments.BonusRule": "the parent's deposit bonuses, applied on its own deposits only",
    "providers.RouteScore": "the parent's routing scores of its providers, admin only",
    "accounts.LedgerArchivedKey": (
        "ledger keys of archived months: subject ids, read by the ledger's trigger only"
    ),
    "orders.PollLease": "the poll engine's claims: row ids, never shown",
    "orders.OrderClientRef": "orders' unique keys, written by triggers, never shown or read",
    "orders.OrderUpstreamId": "the same",
    "orders.OrderOpenLink": "the same",
    "bot.BotUpdate": "update ids of the parent's Telegram bot, already handled",
    "panel.DayFigures": "the parent's dashboard rollup (child panels' customers left out)",
    "panel.DayServiceFigures": "the same, per service",
    "panel.DayCustomerFigures": "the same, per customer",
    "panel.RollupState": "where the rollup got to",
    "panel.DailyReport": "the parent's daily report to its operators",
    "panel.Notice": "the parent's notices: not shown on a child panel's host (panel/notices.py)",
}

# URLs that are the same on every panel and carry nothing of anyone's (why each); the walk
# still requests every one of them, and they must not show or change another panel's rows.
PANEL_INDEPENDENT = {
    "health": "the process's own dependencies",
    "health_worker": "whether a worker consumed beat's heartbeat",
    "tls_allowed": "Caddy's yes or no for a domain, asked on any host (docs/operations.md)",
    "child_panel_theme": "the host's own colour",
    "set_language": "the browser's language cookie",
    "provider_webhook": "a provider's callback, checked by its signature, not by the host",
}
# Not requested: they end the viewer's session, and the walk goes on as the viewer.
NOT_WALKED = {"logout", "admin:logout"}

# What the id of each view names: requested with the other panel's object of that kind, it
# must answer not found, forbidden, a redirect or "method not allowed", never the object.
ID_KINDS = {
    "order_detail": "order",
    "order_refill": "order",
    "order_cancel": "order",
    "ticket_detail": "ticket",
    "ticket_close": "ticket",
    "ticket_reopen": "ticket",
    "webhook_update": "webhook",
    "webhook_delete": "webhook",
    "webhook_test": "webhook",
    "webhook_delivery_resend": "notification",
    "service_favorite": "service",
    "product_order_new": "product",
    "provider_webhook": "provider",
    "child_panel_credit": "panel",
    "child_panel_pay": "panel",
    "child_panel_payments": "panel",
    "child_panel_assign": "panel",
    "child_panel_logo": "panel",
}
REFUSED = {302, 403, 404, 405}
SLOTS_NOT_IDS = {
    "signup_confirm",  # a signed token: test_isolation_paths opens another panel's
    "password_reset_confirm",  # the same
    "telegram_webhook",  # the parent's bot's secret (parent only)
    "deposit_qr_png",  # a deposit's key (parent only)
    "start_payment",  # a gateway's name (parent only)
    "payment_webhook",  # the same
    "referral_visit",  # an affiliate's code (parent only)
    "child_panel_logo_image",  # a logo's stamp, served on its own panel's host only (test_logo)
}

TARGETS = (User, ChildPanel)


def tenant_paths(model: type[Model], depth: int = 0, seen: tuple = ()) -> list[str]:
    """The foreign-key paths (up to three hops) from `model` to an account or a child panel."""
    if model in TARGETS:
        return ["pk"]
    found = []
    for field in model._meta.get_fields():
        if not (field.many_to_one or (field.one_to_one and field.concrete)):
            continue
        related = field.related_model
        if related in TARGETS:
            found.append(field.name)
        elif depth < 2 and related is not None and related not in seen:
            found += [
                f"{field.name}__{path}" for path in tenant_paths(related, depth + 1, (*seen, model))
            ]
    return found


def test_every_model_is_scoped_to_a_panel_or_listed_as_global() -> None:
    unscoped = {m._meta.label for m in apps.get_models() if not tenant_paths(m)}

    assert unscoped - GLOBAL_MODELS.keys() == set(), "scope these to a panel, or list them"
    assert GLOBAL_MODELS.keys() - unscoped == set(), "listed as global, but scoped (or gone)"


def _rows_of(owner: User, panel: ChildPanel | None, viewer: User) -> dict[str, list[dict]]:
    """Every row of every scoped model that is `owner`'s, or `panel`'s (the parent's: rows
    of no child panel), except the viewer's own."""
    snapshot = {}
    for model in apps.get_models():
        paths = tenant_paths(model)
        if not paths:
            continue
        user_paths = [p for p in paths if p == "pk" or _ends_at(model, p) is User]
        mine = [Q(**{p: owner.pk}) for p in user_paths]
        for path in paths:
            if _ends_at(model, path) is ChildPanel:
                mine.append(
                    Q(**{f"{path}__isnull": True}) if panel is None else Q(**{path: panel.pk})
                )
        if model is User:
            mine.append(Q(child_panel=panel))
        viewers = [Q(**{p: viewer.pk}) for p in user_paths]
        rows = model._default_manager.filter(reduce(or_, mine))
        if viewers:
            rows = rows.exclude(reduce(or_, viewers))
        snapshot[model._meta.label] = list(rows.order_by("pk").values())
    return snapshot


def _ends_at(model: type[Model], path: str) -> type[Model] | None:
    if path == "pk":
        return model
    for name in path.split("__"):
        model = model._meta.get_field(name).related_model
    return model


def _routes() -> Iterator[tuple[str, str, list[str]]]:
    """Every URL pattern: its name (namespaced), a path template with {name} slots, and the
    names of its slots."""

    def walk(patterns: list, namespace: str, prefix: str) -> Iterator[tuple[str, str, list[str]]]:
        for pattern in patterns:
            piece = _template(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner, prefix + piece)
            elif isinstance(pattern, URLPattern):
                path = "/" + prefix + piece
                yield f"{namespace}{pattern.name or path}", path, re.findall(r"{(\w+)}", path)

    yield from walk(get_resolver().url_patterns, "", "")


def _template(pattern: object) -> str:
    text = str(pattern)
    if isinstance(pattern, RegexPattern):
        text = text.removeprefix("^").removesuffix("$").replace("/?", "").replace("\\.", ".")

        def group(match: re.Match) -> str:
            # A choice of words (the admin's app labels): the first one; else a slot.
            choices = match[2].split("|")
            if all(re.fullmatch(r"\w+", c) for c in choices) and not match[2].isdigit():
                return choices[0]
            return "{" + match[1] + "}"

        text = re.sub(r"\(\?P<(\w+)>([^)]*)\)", group, text)
        return text.replace(".*", "")
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)


def _ids_of(world: dict, host: str) -> dict[str, int]:
    found = world[host]
    notification = Notification.objects.filter(user=found["user"]).order_by("pk").first()
    panel = found["panel"]
    return {
        "order": found["order"].pk,
        "ticket": found["ticket"].pk,
        "webhook": found["webhook"].pk,
        "notification": notification.pk if notification else found["order"].pk,
        "service": found["service"].pk,
        "product": Product.objects.filter(provider__child_panel=panel).order_by("pk")[0].pk,
        "provider": Provider.objects.filter(child_panel=panel).order_by("pk")[0].pk,
        "panel": (
            panel or found["user"].owned_child_panels.first() or world[CHILD_HOST]["panel"]
        ).pk,
        "user": found["user"].pk,
    }


def _requests(name: str, path: str, slots: list[str], ids: dict[str, int]) -> Iterator[str]:
    if not slots:
        yield path
        return
    kind = ID_KINDS.get(name)
    values = [ids[kind]] if kind else ([ids["user"]] if name.startswith("admin:") else ids.values())
    for value in dict.fromkeys(values):
        url = path
        for slot in slots:
            url = url.replace("{" + slot + "}", str(value))
        yield url


@pytest.mark.parametrize("viewer", HOSTS)
def test_no_view_shows_or_changes_another_panels_rows(world: dict, viewer: str) -> None:
    me: User = world[viewer]["user"]
    client = Client(HTTP_HOST=viewer)
    client.force_login(me)
    routes = [route for route in _routes() if route[0] not in NOT_WALKED]
    assert {"order_detail", "api_v2", "admin:index"} <= {name for name, _p, _s in routes}
    for target in set(HOSTS) - {viewer}:
        owner: User = world[target]["user"]
        before = _rows_of(owner, world[target]["panel"], me)
        ids = _ids_of(world, target)
        for name, path, slots in routes:
            if name.startswith("admin:") and viewer == PARENT_HOST:
                continue  # the parent's admin is staff-only: test_the_admin_is_the_parents_only
            for url in _requests(name, path, slots, ids):
                for method in (client.get, client.post):
                    answer = method(url)
                    where = f"{method.__name__.upper()} {url} ({name}) on {viewer}"
                    assert answer.status_code < 500 or name in PANEL_INDEPENDENT, where
                    body = answer.content.decode(errors="replace") + answer.get("Location", "")
                    assert marker(target) not in body, f"{where} shows {target}'s rows"
                    if name in ID_KINDS and name not in PANEL_INDEPENDENT:
                        assert answer.status_code in REFUSED, where
                    if viewer != PARENT_HOST and name.startswith("admin:"):
                        # A child's own admin (panel.urls_child) shows a customer its login
                        # page or sends him there; the parent's admin pages it lacks are not
                        # found.
                        allowed = (200, 302, 404) if name == "admin:login" else (302, 404)
                        assert answer.status_code in allowed, where
                        assert answer.get("Location", "/admin/login/").startswith(
                            "/admin/login/"
                        ), where
        assert _rows_of(owner, world[target]["panel"], me) == before, f"{target} changed"


def test_the_allow_lists_name_real_views() -> None:
    names = {name for name, _path, _slots in _routes()}
    assert (PANEL_INDEPENDENT.keys() | NOT_WALKED | ID_KINDS.keys()) <= names
    # every view taking an id outside the admin and the parent's operator API has its kind
    with_ids = {
        name
        for name, path, slots in _routes()
        if slots and not name.startswith(("admin:", "operatorapi")) and "/adminapi/" not in path
    }
    # the rest take no object's id: a signed token, a secret, a gateway's or a method's name
    assert with_ids - ID_KINDS.keys() == SLOTS_NOT_IDS
