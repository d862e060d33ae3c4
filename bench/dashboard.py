"""The admin dashboard with a million orders: seed them in SQL (INSERT … SELECT generate_series),
roll them up, then time the dashboard figures and the whole admin index page."""

from decimal import Decimal

from bench.common import median_ms, note, report, reset_tables, timed

DAYS = 365
SERVICES = 200
CUSTOMERS = 1000

# Raw SQL names every NOT NULL column (Django sets no database defaults): a column added to
# these models must be added here too, or the benchmark (and its smoke test) fails loudly.
# One INSERT for all the orders: ids, dates and outcomes are derived from the series number,
# so the data is the same on every run. Statuses: 70% Completed, 10% Partial, 5% Canceled,
# the rest in flight; 2% queued and 2% needing review; created over the last DAYS days.
ORDERS_SQL = """
WITH g AS (
  SELECT n, (n * 31) %% 100 AS r, n %% %(services)s AS s, n %% %(customers)s AS u,
         (0.5 + (n %% 1000) / 100.0)::numeric(20, 6) AS charge,
         now() - make_interval(secs => (n::bigint * 7919) %% (%(days)s * 86400)) AS at
  FROM generate_series(1, %(orders)s) AS n
)
INSERT INTO orders_order (
  user_id, service_id, provider_id, route_id, upstream_service_id, link, quantity,
  total_quantity, details, status, upstream_id, dispatch_state, dispatch_attempts,
  dispatch_error, review_reason, poll_idle_count, poll_miss_count, created_at, updated_at, charge, refunded,
  upstream_rate, exchange_rate, cost, source
)
SELECT %(user_base)s + u, %(service_base)s + s, %(provider_base)s + s / (%(services)s / 2), NULL,
  (1000 + s)::text, 'https://x.com/p/' || n, 1000, 1000, '{}'::jsonb,
  CASE WHEN r < 70 THEN 'Completed' WHEN r < 80 THEN 'Partial' WHEN r < 85 THEN 'Canceled'
       WHEN r < 92 THEN 'In progress' WHEN r < 96 THEN 'Processing' ELSE 'Pending' END,
  CASE WHEN r < 96 THEN n::text END,
  CASE WHEN r < 96 THEN 'sent' WHEN r < 98 THEN 'queued' ELSE 'needs_review' END,
  1, CASE WHEN r >= 98 THEN 'Outcome unknown, not resent: timeout' ELSE '' END,
  CASE WHEN r >= 98 THEN 'add_unknown' ELSE '' END, 0, 0, at, at,
  charge,
  CASE WHEN r >= 80 AND r < 85 THEN charge WHEN r >= 70 AND r < 80 THEN round(charge / 3, 6)
       ELSE 0 END,
  1, 1, round(charge * 0.7, 6), 'api'
FROM g
"""

USERS_SQL = """
INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email,
  is_staff, is_active, date_joined, balance, currency, discount_percent, language)
SELECT '!', false, 'bench' || n, '', '', '', false, true,
  now() - make_interval(days => n %% %(days)s), 0, 'USD', 0, ''
FROM generate_series(1, %(customers)s) AS n
"""

CALLS_SQL = """
INSERT INTO providers_providercall (provider_id, action, result, duration_ms, created_at)
SELECT %(provider_base)s + n %% 2, 'add', CASE WHEN n %% 50 = 0 THEN 'rejected' ELSE 'ok' END,
  80 + n %% 400, now() - make_interval(secs => n %% 7200)
FROM generate_series(1, 6000) AS n
"""


def _seed(orders: int) -> None:
    from django.db import connection

    from tests.factories import CategoryFactory, ProviderFactory, ServiceFactory

    providers = [ProviderFactory(name="Bench A"), ProviderFactory(name="Bench B")]
    category = CategoryFactory(name="Bench")
    services = [
        ServiceFactory(
            provider=providers[i * 2 // SERVICES], category=category, upstream_id=str(1000 + i)
        )
        for i in range(SERVICES)
    ]
    with connection.cursor() as cursor:
        cursor.execute(USERS_SQL, {"customers": CUSTOMERS, "days": DAYS})
        cursor.execute("SELECT min(id) FROM accounts_user")
        user_base = cursor.fetchone()[0]
        params = {
            "orders": orders,
            "days": DAYS,
            "services": SERVICES,
            "customers": CUSTOMERS,
            "user_base": user_base,
            "service_base": services[0].pk,
            "provider_base": providers[0].pk,
        }
        cursor.execute(ORDERS_SQL, params)
        cursor.execute(CALLS_SQL, params)
    # What autovacuum does on a live database soon after a bulk load: statistics and the
    # visibility map that index-only scans need.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def run(*, orders: int) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.client import RequestFactory
    from django.utils import timezone

    from orders.models import Order
    from panel.dashboard.rollup import dashboard_rollup
    from panel.dashboard.views import dashboard_context

    reset_tables()
    with timed() as seeding:
        _seed(orders)
    note(f"{orders} orders over {DAYS} days, {SERVICES} services, {CUSTOMERS} customers")
    report("dashboard_seed", seeding[0], "s")

    with timed() as full:
        summary = dashboard_rollup(full=True)
    note(f"full rollup: {summary}")
    report("dashboard_rollup_full", full[0], "s")

    # A minute of activity: today's newest orders change (refunds, statuses) and are rolled up.
    today = Order.objects.filter(created_at__gte=timezone.now() - timezone.timedelta(hours=6))
    touched = today.order_by("-id")[:1000].values_list("pk", flat=True)
    Order.objects.filter(pk__in=list(touched)).update(
        updated_at=timezone.now(), refunded=Decimal(0)
    )
    with timed() as incremental:
        summary = dashboard_rollup()
    note(f"incremental rollup: {summary}")
    report("dashboard_rollup_incremental", incremental[0] * 1000, "ms")

    admin = get_user_model().objects.create_superuser("bench-admin", "a@example.com", "x")
    factory = RequestFactory()
    for name, params in (
        ("dashboard_figures_7d", {"range": "7d"}),
        ("dashboard_figures_30d", {"range": "30d"}),
        (
            "dashboard_figures_365d",
            {
                "range": "custom",
                "start": str(timezone.localdate() - timezone.timedelta(days=364)),
                "end": str(timezone.localdate()),
            },
        ),
    ):
        request = factory.get("/admin/", params)
        request.user = admin
        median, p95 = median_ms(lambda request=request: dashboard_context(request), repeat=7)
        report(name + "_median", median, "ms")
        report(name + "_p95", p95, "ms")

    client = Client()
    client.force_login(admin)

    def page() -> None:
        response = client.get("/admin/", {"range": "30d"})
        assert response.status_code == 200

    median, p95 = median_ms(page, repeat=7)
    note("the whole admin index page (dashboard + app list), 30 days, through the test client")
    report("dashboard_page_30d_median", median, "ms")
    report("dashboard_page_30d_p95", p95, "ms")
