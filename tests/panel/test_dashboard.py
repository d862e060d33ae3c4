"""The admin dashboard: figures from the rollup equal sums computed here from the orders."""

import random
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from accounts.services import balance_credit
from notifications.delivery import notifications_deliver
from orders.models import (
    DispatchState,
    Order,
    OrderStatus,
    ProductOrder,
    ProductOrderStatus,
    ReviewReason,
)
from panel.dashboard.figures import range_figures
from panel.dashboard.live import hands, provider_cards
from panel.dashboard.report import daily_report_send
from panel.dashboard.rollup import dashboard_rollup
from panel.models import DailyReport
from providers.alerts import provider_balance_alerts
from providers.models import Provider, ProviderCall, ServiceRoute
from tests.factories import ProductFactory, ProviderFactory, ServiceFactory, UserFactory

TZ = "Asia/Ho_Chi_Minh"  # UTC+7: an order at 20:00 UTC belongs to the next local day
DAYS = 10
CENT = Decimal("0.01")


def _local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=ZoneInfo(TZ))


@pytest.fixture
def today() -> date:
    with override_settings(TIME_ZONE=TZ):
        return timezone.localdate()


@pytest.fixture
def shop(db: None, today: date) -> dict:
    """Orders over DAYS local days, at random hours, statuses, states and routes."""
    rng = random.Random(5)
    home, backup = ProviderFactory(name="Home"), ProviderFactory(name="Backup")
    services = [ServiceFactory(provider=home) for _ in range(3)]
    target = ServiceFactory(provider=backup, upstream_id="9001")
    route = ServiceRoute.objects.create(service=services[0], target=target, priority=10)
    customers = [UserFactory() for _ in range(4)]
    product = ProductFactory(provider=home)
    orders = []
    for _ in range(160):
        day = today - timedelta(days=rng.randrange(DAYS + 2))  # some fall outside the range
        status = rng.choice(OrderStatus.values)
        charge = Decimal(rng.randrange(100, 5000)) / 100
        refunded = {"Canceled": charge, "Partial": (charge / 3).quantize(CENT)}.get(status, 0)
        service = rng.choice(services)
        routed = service == services[0] and rng.random() < 0.5
        order = Order.objects.create(
            user=rng.choice(customers),
            service=service,
            provider=backup if routed else home,
            route=route if routed else None,
            quantity=1000,
            total_quantity=1000,
            charge=charge,
            refunded=refunded,
            upstream_rate=Decimal(1),
            cost=(charge * Decimal(rng.randrange(40, 110)) / 100).quantize(CENT),
            status=status,
            dispatch_state=rng.choice(DispatchState.values),
        )
        orders.append(order)
        Order.objects.filter(pk=order.pk).update(created_at=_local(day, rng.randrange(24)))
    for _ in range(12):
        day = today - timedelta(days=rng.randrange(DAYS))
        status = rng.choice(ProductOrderStatus.values)
        po = ProductOrder.objects.create(
            user=rng.choice(customers),
            product=product,
            provider=home,
            quantity=1,
            charge=Decimal("3"),
            refunded=Decimal("3") if status == "Canceled" else Decimal(0),
            upstream_rate=Decimal(2),
            cost=Decimal("2"),
            status=status,
            dispatch_state=DispatchState.SENT,
        )
        ProductOrder.objects.filter(pk=po.pk).update(created_at=_local(day, rng.randrange(24)))
    return {"customers": customers, "services": services, "route": route}


def _expected(start: date, end: date) -> dict:
    """The dashboard's definitions, computed straight from the rows."""
    tz = ZoneInfo(TZ)
    revenue, cost = defaultdict(Decimal), defaultdict(Decimal)
    by_status: dict[str, int] = defaultdict(int)
    by_service, by_customer, by_route = (
        defaultdict(lambda: [0, Decimal(0), Decimal(0)]) for _ in range(3)
    )
    for model in (Order, ProductOrder):
        for row in model.objects.all():
            day = row.created_at.astimezone(tz).date()
            if not start <= day <= end:
                continue
            row_cost = (
                row.cost
                if row.dispatch_state == DispatchState.SENT and row.status != "Canceled"
                else Decimal(0)
            )
            revenue[day] += row.charge - row.refunded
            cost[day] += row_cost
            keys = [(by_customer, row.user_id)]
            if model is Order:
                by_status[row.status] += 1
                keys += [
                    (by_service, row.service_id),
                    (by_route, (row.provider_id, row.route_id or 0)),
                ]
            for table, key in keys:
                table[key][0] += 1
                table[key][1] += row.charge - row.refunded
                table[key][2] += row_cost
    return {
        "revenue": sum(revenue.values(), Decimal(0)),
        "cost": sum(cost.values(), Decimal(0)),
        "per_day": {d: (revenue[d], cost[d]) for d in set(revenue) | set(cost)},
        "by_status": dict(by_status),
        "services": {k: (v[0], v[1] - v[2]) for k, v in by_service.items()},
        "customers": {k: (v[0], v[1] - v[2]) for k, v in by_customer.items()},
        "routes": {k: (v[0], v[1] - v[2]) for k, v in by_route.items()},
    }


@override_settings(TIME_ZONE=TZ)
def test_dashboard_figures_equal_sums_computed_from_the_orders(shop: dict, today: date) -> None:
    # given
    start = today - timedelta(days=6)
    dashboard_rollup()
    expected = _expected(start, today)
    # when
    figures = range_figures(start=start, end=today)
    # then
    assert figures.totals.revenue == expected["revenue"]
    assert figures.totals.cost == expected["cost"]
    assert figures.totals.profit == expected["revenue"] - expected["cost"]
    assert figures.orders == sum(expected["by_status"].values())
    assert dict(figures.by_status) == {
        s: expected["by_status"].get(s, 0) for s in OrderStatus.values
    }
    assert len(figures.per_day) == 7
    for day, money in figures.per_day:
        assert (money.revenue, money.cost) == expected["per_day"].get(day, (0, 0))
    top = sorted(expected["services"].items(), key=lambda kv: (-kv[1][1], kv[0]))
    assert [(r.url_id, r.orders, r.money.profit) for r in figures.top_services] == [
        (k, n, p) for k, (n, p) in top
    ]
    top = sorted(expected["customers"].items(), key=lambda kv: (-kv[1][1], kv[0]))
    assert [(r.url_id, r.orders, r.money.profit) for r in figures.top_customers] == [
        (k, n, p) for k, (n, p) in top
    ]
    routes = {(r.url_id or 0): (r.orders, r.money.profit) for r in figures.by_route}
    assert (
        routes[shop["route"].pk]
        == expected["routes"][(shop["route"].target.provider_id, shop["route"].pk)]
    )
    assert sum(n for n, _ in routes.values()) == figures.orders


@override_settings(TIME_ZONE=TZ)
def test_rollup_redoes_only_the_days_that_changed_and_catches_late_refunds(
    shop: dict, today: date
) -> None:
    start = today - timedelta(days=6)
    an_hour_ago = timezone.now() - timedelta(hours=1)  # older than the rollup's overlap
    Order.objects.update(updated_at=an_hour_ago)
    ProductOrder.objects.update(updated_at=an_hour_ago)
    first = dashboard_rollup()
    old = (
        Order.objects.filter(status=OrderStatus.COMPLETED, created_at__gte=_local(start, 0))
        .order_by("pk")
        .first()
    )

    assert dashboard_rollup().days == 0  # nothing changed since
    Order.objects.filter(pk=old.pk).update(
        status=OrderStatus.PARTIAL, refunded=old.charge / 2, updated_at=timezone.now()
    )
    again = dashboard_rollup()

    assert first.days >= DAYS and again.days == 1
    assert (
        range_figures(start=start, end=today).totals.revenue == _expected(start, today)["revenue"]
    )


@override_settings(TIME_ZONE=TZ)
def test_new_customers_count_sign_ups_in_the_range(shop: dict, today: date) -> None:
    User.objects.filter(pk=shop["customers"][0].pk).update(
        date_joined=_local(today - timedelta(days=40), 9)
    )
    UserFactory(is_staff=True)  # staff are not customers

    figures = range_figures(start=today - timedelta(days=6), end=today)

    assert figures.new_customers == 3


def test_provider_cards_show_error_rate_latency_and_orders_in_flight(db: None) -> None:
    provider = ProviderFactory(name="Cards", balance=Decimal(5))
    Provider.objects.filter(pk=provider.pk).update(
        balance_checked_at=timezone.now() - timedelta(minutes=3)
    )
    now = timezone.now()
    for outcome, ms, minutes_ago in (
        ("ok", 100, 5),
        ("ok", 300, 10),
        ("rejected", 200, 20),
        ("ok", 9999, 90),
    ):
        ProviderCall.objects.create(
            provider=provider,
            action="add",
            result=outcome,
            duration_ms=ms,
            created_at=now - timedelta(minutes=minutes_ago),
        )
    service = ServiceFactory(provider=provider)
    user = UserFactory()
    for state, status in (
        ("sent", "In progress"),
        ("sent", "Completed"),
        ("sending", "Pending"),
        ("queued", "Pending"),
    ):
        Order.objects.create(
            user=user,
            service=service,
            provider=provider,
            quantity=1,
            total_quantity=1,
            charge=Decimal(1),
            upstream_rate=Decimal(1),
            cost=Decimal(1),
            status=status,
            dispatch_state=state,
        )

    card = next(c for c in provider_cards(now) if c.provider == provider)

    assert (card.calls, card.errors, card.error_rate, card.avg_latency_ms) == (
        3,
        1,
        Decimal("33.3"),
        200,
    )
    assert card.in_flight == 2
    assert timedelta(minutes=2) < card.balance_age < timedelta(minutes=4)


def test_hands_count_what_waits_for_an_admin_and_link_to_filtered_lists(
    db: None, staff: User, client: Client
) -> None:
    low = ProviderFactory(name="Low", balance=Decimal(1))
    ServiceFactory(provider=low, upstream_rate=Decimal(3), rate=Decimal("2.5"))  # sells at a loss
    service = ServiceFactory(provider=low)
    user = UserFactory()
    for reason in ("add_unknown", "add_unknown", "worker_lost"):
        Order.objects.create(
            user=user,
            service=service,
            provider=low,
            quantity=1,
            total_quantity=1,
            charge=Decimal(1),
            upstream_rate=Decimal(1),
            cost=Decimal(1),
            dispatch_state=DispatchState.NEEDS_REVIEW,
            review_reason=reason,
        )

    items = {item.label: item for item in hands()}

    unknown = items[f"Orders needing review: {ReviewReason.ADD_UNKNOWN.label}"]
    assert unknown.count == 2
    assert items[f"Orders needing review: {ReviewReason.WORKER_LOST.label}"].count == 1
    assert items["Providers with a low balance"].count == 1
    assert items["Services whose cost is not below their price"].count == 1
    client.force_login(staff)
    for item in items.values():
        response = client.get(item.url)
        assert response.status_code == 200, item.url
    losing = client.get(items["Services whose cost is not below their price"].url)
    assert losing.context["cl"].result_count == 1
    assert client.get(unknown.url).context["cl"].result_count == 2
    low_list = client.get(items["Providers with a low balance"].url)
    assert low_list.context["cl"].result_count == 1


def test_admin_index_shows_the_dashboard_to_staff_with_the_permission(
    shop: dict, client: Client, staff: User
) -> None:
    dashboard_rollup()
    client.force_login(staff)

    response = client.get(reverse("admin:index"), {"range": "30d"})

    assert response.status_code == 200
    dashboard = response.context["dashboard"]
    assert dashboard.preset == "30d" and len(dashboard.figures.per_day) == 30
    html = response.content.decode()
    assert "What needs hands" in html and "<svg" in html and "Top customers by profit" in html


@override_settings(TIME_ZONE=TZ)
def test_status_counts_link_to_the_same_orders_in_the_admin_list(
    shop: dict, client: Client, staff: User
) -> None:
    dashboard_rollup()
    client.force_login(staff)
    figures = client.get(reverse("admin:index"), {"range": "7d"}).context["dashboard"].figures

    for status, count in figures.by_status:
        listed = client.get(
            reverse("admin:orders_order_changelist") + f"?status__exact={status}&"
            f"{figures.created_query}"
        )
        assert listed.context["cl"].result_count == count, status


def test_staff_without_the_permission_get_the_plain_index(db: None, client: Client) -> None:
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(clerk)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200 and "dashboard" not in response.context
    clerk.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    clerk = User.objects.get(pk=clerk.pk)  # permissions are cached on the instance
    client.force_login(clerk)
    assert "dashboard" in client.get(reverse("admin:index")).context


@pytest.mark.parametrize(
    "params",
    [
        {"range": "custom", "start": "2026-01-05", "end": "2026-01-01"},
        {"range": "custom", "start": "garbage"},
        {"range": "custom", "start": "2020-01-01", "end": "2026-01-01"},
        {"range": "forever"},
    ],
)
def test_a_bad_range_falls_back_to_seven_days_with_a_message(
    db: None, client: Client, staff: User, params: dict
) -> None:
    client.force_login(staff)

    response = client.get(reverse("admin:index"), params)

    assert response.status_code == 200
    assert response.context["dashboard"].preset == "7d"
    assert response.context["dashboard"].form.errors


def test_custom_range(db: None, client: Client, staff: User) -> None:
    client.force_login(staff)

    response = client.get(
        reverse("admin:index"), {"range": "custom", "start": "2026-01-01", "end": "2026-01-31"}
    )

    figures = response.context["dashboard"].figures
    assert (figures.start, figures.end, len(figures.per_day)) == (
        date(2026, 1, 1),
        date(2026, 1, 31),
        31,
    )


def test_low_balance_alerts_once_per_crossing(staff: User) -> None:
    provider = ProviderFactory(name="Dry", balance=Decimal(5), low_balance_threshold=Decimal(10))

    assert provider_balance_alerts() == ["Dry"]
    assert provider_balance_alerts() == []  # still low: no second alert
    notifications_deliver()
    assert len(mail.outbox) == 1 and "Dry: balance low" in mail.outbox[0].subject
    Provider.objects.filter(pk=provider.pk).update(balance=Decimal(50))
    assert provider_balance_alerts() == []  # recovered: the mark clears
    Provider.objects.filter(pk=provider.pk).update(balance=Decimal(2))
    assert provider_balance_alerts() == ["Dry"]
    notifications_deliver()
    assert len(mail.outbox) == 2


@override_settings(TIME_ZONE=TZ)
def test_daily_report_is_sent_once_per_day_with_the_days_figures(
    shop: dict, staff: User, today: date
) -> None:
    yesterday = today - timedelta(days=1)
    balance_credit(user_id=shop["customers"][0].pk, amount=Decimal(25), memo="deposit")
    expected = _expected(yesterday, yesterday)

    report = daily_report_send(day=yesterday)

    assert report is not None and daily_report_send(day=yesterday) is None
    notifications_deliver()
    assert DailyReport.objects.count() == 1 and len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert f"Revenue     {expected['revenue'].normalize():f}" in body
    assert f"Profit      {(expected['revenue'] - expected['cost']).normalize():f}" in body
    assert staff.email in mail.outbox[0].to


def test_daily_report_that_reached_nobody_is_not_marked_sent(db: None) -> None:
    from panel.dashboard.report import ReportNotSent

    with pytest.raises(ReportNotSent):
        daily_report_send(day=date(2026, 1, 1))
    assert not DailyReport.objects.exists()


def test_beat_tasks_call_their_services(staff: User, customer: User) -> None:
    from accounts.models import PricingTier
    from panel.tasks import daily_report_task, dashboard_rollup_task, pricing_tiers_assign_task

    tier = PricingTier.objects.create(
        name="All", basis="deposits", threshold=Decimal(1), percent_off=Decimal(2)
    )
    dashboard_rollup_task()
    pricing_tiers_assign_task()
    daily_report_task()
    notifications_deliver()

    assert User.objects.get(pk=customer.pk).pricing_tier == tier
    assert DailyReport.objects.get().day == timezone.localdate() - timedelta(days=1)
    # The daily report to the staff, and the customer's "you reached a rank" email.
    assert sorted(message.to[0] for message in mail.outbox) == sorted([customer.email, staff.email])


@override_settings(PANEL_TELEGRAM_BOT_TOKEN="123:abc", PANEL_TELEGRAM_CHAT_ID="42")
def test_daily_report_goes_to_telegram_through_the_outbox_once(db: None) -> None:
    from notifications.digest import digest_text
    from notifications.models import Kind, Notification

    day = date(2026, 1, 1)

    assert daily_report_send(day=day) is not None  # no staff email, but Telegram is configured
    assert daily_report_send(day=day) is None

    row = Notification.objects.get(kind=Kind.OPS_DAILY_REPORT, channel="telegram")
    assert row.key == "daily-report:2026-01-01" and row.channel == "telegram"
    assert "📊 Daily report: 1\n• 01/01/2026: revenue 0.00 USD, cost 0.00 USD" in digest_text([row])


def test_the_daily_reports_telegram_line_is_written_in_the_digests_language(
    db: None, settings: Any
) -> None:
    """The row keeps the day's figures; the digest writes them in the language it is sent in,
    not in the one of the midnight that stored them (rows from before keep their line)."""
    from notifications.digest import digest_text
    from notifications.models import Kind, Notification

    # (through the fixture alone: a decorator's override would be restored under its changes)
    settings.PANEL_TELEGRAM_BOT_TOKEN, settings.PANEL_TELEGRAM_CHAT_ID = "123:abc", "42"
    settings.PANEL_CURRENCY = "VND"
    with translation.override("en"):
        assert daily_report_send(day=date(2026, 1, 2)) is not None
    row = Notification.objects.get(kind=Kind.OPS_DAILY_REPORT, channel="telegram")
    row.payload = {
        **row.payload,
        "revenue": {"amount": "1250000", "currency": "VND"},
        "margin": "12.5",
        "orders": 1500,
    }

    settings.LANGUAGE_CODE = "vi"
    vietnamese = digest_text([row])
    settings.LANGUAGE_CODE = "en"
    english = digest_text([row])

    assert "• 02/01/2026: doanh thu 1.250.000 ₫" in vietnamese and "(12,5%)" in vietnamese
    assert "1.500 đơn" in vietnamese
    assert "• 02/01/2026: revenue 1,250,000 ₫" in english and "(12.5%)" in english
    assert "1,500 orders" in english
    older = Notification(kind=Kind.OPS_DAILY_REPORT, payload={"day": "2025-12-31", "summary": "s"})
    assert "• 31/12/2025: s" in digest_text([older])


def test_payments_and_support_plug_deposits_and_their_queues_in(
    staff: User, customer: User, client: Client
) -> None:
    # given: a credited manual deposit, a transfer that matched nobody, an open ticket
    from payments.models import Deposit
    from payments.services import deposit_create_manual
    from support.services import ticket_open

    deposit_create_manual(user_id=customer.pk, amount=Decimal(40), memo="cash", admin=staff)
    Deposit.objects.create(
        gateway="sepay",
        external_id="tx-1",
        amount=Decimal(100000),
        currency="VND",
        rate=Decimal(25000),
        status=Deposit.Status.UNMATCHED,
    )
    ticket_open(user=customer, kind="other", subject="Hello", message="A question")
    today = timezone.localdate()
    # when
    from panel.dashboard.figures import deposits_by_gateway

    deposits = deposits_by_gateway(today, today)
    items = {item.label: item for item in hands()}
    # then
    assert deposits == [("Manual (admin)", Decimal(40))]
    assert items["Unmatched deposits"].count == 1 and items["Open tickets"].count == 1
    client.force_login(staff)
    for label in ("Unmatched deposits", "Open tickets"):
        assert client.get(items[label].url).context["cl"].result_count == 1, label


@override_settings(TIME_ZONE=TZ)
def test_the_vietnamese_chart_keeps_its_coordinates_and_writes_money_as_vietnamese(
    shop: dict, client: Client, staff: User
) -> None:
    """Issue 23: the template localized floats inside the SVG ("12,5") and broke the chart."""
    dashboard_rollup()
    client.force_login(staff)
    client.post(reverse("set_language"), {"language": "vi"})

    html = client.get(reverse("admin:index"), {"range": "30d"}).content.decode()

    start = html.index('<svg class="cockpit-svg"')
    svg = html[start : html.index("</svg>", start)]
    coordinates = re.findall(r' (?:x|y|x1|x2|y1|y2|cx|cy)="([^"]*)"', svg)
    assert coordinates and all(re.fullmatch(r"-?\d+(\.\d+)?", c) for c in coordinates)
    points = re.findall(r'points="([^"]*)"', svg)
    assert points and all(
        re.fullmatch(r"-?\d+(\.\d+)?,-?\d+(\.\d+)?", pair)
        for line in points
        for pair in line.split()
    )
    # Money as Vietnamese writes it ("1.545,77"), never "1,545,77" from floatformat + intcomma.
    assert not re.search(r"\d,\d{3},\d{2}\b", html)
