"""What the run's resellers do on /api/v2 (adds with and without `client_ref`, status reads,
cancels — some while the order is being sent —, refills, product orders), the run's sizes, the
accounts, and the watch on the provider's status calls. The customers in the browser are
browser.py's. Every answer goes to the ClientLog."""

import random
import threading
import time
from dataclasses import dataclass
from decimal import Decimal

import httpx

from bench.chaos.clients import PLACED, REFUSED, UNKNOWN, Attempt, ClientLog
from bench.chaos.killer import InFlight
from bench.chaos.stack import SANDBOX_KEY, Stack

RESELLER_BALANCE = Decimal("100000.00")
CUSTOMER_BALANCE = Decimal("20000.00")
PASSWORD = "chaos-Customer-password-1"  # noqa: S105 - a throwaway account on a throwaway stack
POLL_WATCH_INTERVAL = 0.25
# A client sends one request at most this often (a dropped connection, a 5xx), waiting 0.5 s,
# 1 s, 2 s … between tries: about half a minute in all, longer than the database's restarts.
TRIES = 7


def backoff(tries: int) -> float:
    return 0.5 * 2 ** min(tries, 5)


@dataclass(frozen=True)
class Mode:
    name: str
    orders: int  # by the resellers through the API
    resellers: int
    customers: int  # in the browser: order form and mass orders
    web_orders: int  # each customer's, half of them in mass order forms of three lines
    transfers: int  # bank transfers, reported by SePay and Casso
    card_payments: int  # Stripe Checkout sessions paid
    kills: int
    place_seconds: float  # the orders are spread over this long
    kill_gap: tuple[float, float]  # seconds between the stack being back and the next kill
    settle_seconds: float  # at most this long for the stack to finish what it can
    # The busy faults (no funds, leaked message keys) pause all forwarding to the provider for
    # two minutes each, so they run only this long from the start; 0 leaves them out.
    busy_seconds: float = 0
    # The child panel's customers (child.py): API resellers and their orders in all, customers
    # in the browser and the web orders of each.
    child_resellers: int = 1
    child_orders: int = 20
    child_customers: int = 1
    child_web_orders: int = 4
    payouts: int = 4  # the affiliate's moves to the balance and payout requests, each
    telegram_orders: int = 3  # placed in the bot, each by a double tap


SHORT = Mode(
    "short",
    orders=60,
    resellers=3,
    customers=1,
    web_orders=6,
    transfers=10,
    card_payments=3,
    kills=10,
    place_seconds=40,
    kill_gap=(2, 5),
    settle_seconds=150,
    child_orders=16,
)
FULL = Mode(
    "full",
    orders=200,
    resellers=4,
    customers=2,
    web_orders=16,
    transfers=40,
    card_payments=10,
    kills=15,
    place_seconds=120,
    kill_gap=(2, 6),
    settle_seconds=150,
    child_orders=50,
    child_web_orders=8,
    payouts=10,
    telegram_orders=8,
)
LONG = Mode(
    "long",
    orders=400,
    resellers=4,
    customers=2,
    web_orders=30,
    transfers=80,
    card_payments=20,
    kills=32,
    place_seconds=420,
    kill_gap=(5, 12),
    settle_seconds=300,
    busy_seconds=40,
    child_resellers=2,
    child_orders=100,
    child_web_orders=16,
    payouts=25,
    telegram_orders=16,
)
MODES = {mode.name: mode for mode in (SHORT, FULL, LONG)}


@dataclass(frozen=True)
class Account:
    username: str
    key: str
    user_id: int


def provision(stack: Stack, mode: Mode) -> tuple[list[Account], list[Account]]:
    """Register the sandbox, import its catalog, create the resellers and the customers (with
    a password for the browser); returns both."""
    from accounts.services import api_key_create, user_create_customer
    from providers.services import catalog_sync, provider_create

    provider = provider_create(
        name="Sandbox",
        api_url=f"{stack.sandbox_url}/api/v2",
        api_key=SANDBOX_KEY,
        markup_percent=Decimal(20),
    )
    catalog_sync(provider=provider)

    def account(name: str, balance: Decimal, password: str | None) -> Account:
        user = user_create_customer(
            username=name, email=f"{name}@example.com", password=password, balance=balance
        )
        return Account(name, api_key_create(user=user), user.pk)

    resellers = [account(f"chaos-reseller-{n}", RESELLER_BALANCE, None) for n in range(4)]
    customers = [account(f"chaos-customer-{n}", CUSTOMER_BALANCE, PASSWORD) for n in range(4)]
    return resellers[: mode.resellers], customers[: mode.customers]


def host_headers(host: str | None) -> dict[str, str]:
    """A child panel's customers reach the same gunicorn under the child's domain."""
    return {"Host": host} if host else {}


def chosen_services(api_url: str, key: str, host: str | None = None) -> list[dict]:
    """Default services without drip-feed (link and quantity are all an add needs), those that
    can be refilled or canceled first."""
    answer = httpx.post(
        api_url,
        data={"key": key, "action": "services"},
        headers=host_headers(host),
        timeout=30,
    ).json()
    plain = [s for s in answer if s["type"] == "Default" and not s.get("dripfeed")]
    if not plain:
        raise RuntimeError("the sandbox catalog has no Default service")
    plain.sort(key=lambda s: (not s.get("refill"), not s.get("cancel"), s["service"]))
    return plain[:8]


def _post(
    client: httpx.Client, api_url: str, fields: dict, log: ClientLog, inflight: InFlight
) -> dict | list | None:
    """One API call as a careful script makes it: sent again after a dropped connection or a
    5xx only when that is safe (the caller says so by calling again); None: no answer."""
    with inflight.track(fields["action"]):
        try:
            response = client.post(api_url, data=fields)
        except httpx.TransportError as error:
            log.count(f"{fields['action']}: transport error {type(error).__name__}")
            return None
    if response.status_code >= 500:
        log.count(f"{fields['action']}: HTTP {response.status_code}")
        return None
    log.count(f"{fields['action']}: HTTP {response.status_code}")
    try:
        return response.json()  # type: ignore[no-any-return]
    except ValueError:
        return None


class Reseller:
    """One reseller's script on /api/v2."""

    def __init__(
        self,
        *,
        stack: Stack,
        account: Account,
        number: int,
        mode: Mode,
        services: list[dict],
        log: ClientLog,
        inflight: InFlight,
        rng: random.Random,
        host: str | None = None,
        orders: int | None = None,
    ) -> None:
        self.api_url, self.key, self.number = stack.api_url, account.key, number
        self.account, self.host = account, host
        self.count = orders if orders is not None else mode.orders // mode.resellers
        self.mode, self.services, self.log, self.inflight, self.rng = (
            mode,
            services,
            log,
            inflight,
            rng,
        )
        self.own: list[int] = []

    def call(self, client: httpx.Client, **fields: str) -> dict | list | None:
        return _post(client, self.api_url, {"key": self.key, **fields}, self.log, self.inflight)

    def run(self) -> None:
        count = self.count
        start = time.monotonic()
        with httpx.Client(timeout=30, headers=host_headers(self.host)) as client:
            for index in range(count):
                delay = start + self.mode.place_seconds * index / count - time.monotonic()
                time.sleep(max(delay, 0) + self.rng.uniform(0, 0.2))
                self.one(client, index)
            self.read_statuses(client)

    def one(self, client: httpx.Client, index: int) -> None:
        service = self.rng.choice(self.services)
        with_ref = index % 4 != 3  # a quarter of the adds carry no client_ref
        attempt = self.add(client, service, index, with_ref=with_ref)
        if attempt.order_id is not None:
            self.own.append(attempt.order_id)
            if service.get("cancel") and self.rng.random() < 0.15:
                # At once: the order is queued or being sent right now.
                self.call(client, action="cancel", orders=str(attempt.order_id))
        if index % 10 == 9:
            self.read_statuses(client)
            self.refill_some(client)
        if index % 15 == 7:
            self.product_order(client, index)
        if index % 20 == 13 and self.own:
            self.call(client, action="cancel", orders=str(self.rng.choice(self.own)))

    def add(self, client: httpx.Client, service: dict, index: int, *, with_ref: bool) -> Attempt:
        link = f"https://instagram.com/p/chaos-{self.number}-{index}"
        fields = {
            "action": "add",
            "service": str(service["service"]),
            "link": link,
            "quantity": str(int(service["min"]) * self.rng.randint(1, 3)),
        }
        attempt = Attempt(
            link=link, how="api" if with_ref else "api-no-ref", user=self.account.username
        )
        if with_ref:
            fields["client_ref"] = attempt.client_ref = f"chaos-{self.number}-{index}"
        self.log.add(attempt)
        # Without a client_ref a retry could buy twice: such a script sends once.
        for tries in range(TRIES if with_ref else 1):
            attempt.retried = tries > 0
            answer = self.call(client, **fields)
            if isinstance(answer, dict) and "order" in answer:
                attempt.outcome, attempt.order_id = PLACED, int(answer["order"])
                return attempt
            if isinstance(answer, dict) and "error" in answer:
                attempt.outcome, attempt.error = REFUSED, str(answer["error"])
                return attempt
            time.sleep(backoff(tries))
        attempt.outcome = UNKNOWN
        return attempt

    def read_statuses(self, client: httpx.Client) -> None:
        ids = self.own[-100:]
        if not ids:
            return
        answer = self.call(client, action="status", orders=",".join(map(str, ids)))
        if not isinstance(answer, dict):
            return
        for text, item in answer.items():
            if isinstance(item, dict) and item.get("status") in (
                "Completed",
                "Partial",
                "Canceled",
            ):
                self.log.saw_final("order", int(text), item["status"], str(item.get("charge")))

    def refill_some(self, client: httpx.Client) -> None:
        refillable = {s["service"] for s in self.services if s.get("refill")}
        if refillable and self.own:
            self.call(client, action="refill", orders=",".join(map(str, self.own[-5:])))

    def product_order(self, client: httpx.Client, index: int) -> None:
        products = self.call(client, action="products")
        if not isinstance(products, list) or not products:
            return
        product = self.rng.choice(products)
        # A few units: a Partial then delivers some of them, and its refund has a share to
        # measure (one unit delivers it whole or not at all).
        low = int(product.get("min") or 1)
        high = max(low, min(int(product.get("max") or low), low + 3))
        ref = f"chaos-product-{self.number}-{index}"
        attempt = self.log.add(
            Attempt(link=ref, how="product", user=self.account.username, client_ref=ref)
        )
        for tries in range(TRIES):
            attempt.retried = tries > 0
            answer = self.call(
                client,
                action="add_product_order",
                product=str(product["product"]),
                quantity=str(self.rng.randint(low, high)),
                require="chaos@example.com",
                client_ref=ref,
            )
            if isinstance(answer, dict) and "order" in answer:
                attempt.outcome, attempt.order_id = PLACED, int(answer["order"])
                return
            if isinstance(answer, dict) and "error" in answer:
                attempt.outcome, attempt.error = REFUSED, str(answer["error"])
                return
            time.sleep(backoff(tries))


def run_clients(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.daemon = True  # an interrupted run does not wait for them
        thread.start()
    for thread in threads:
        thread.join()


class PollWatch(threading.Thread):
    """Samples the sandbox's count of `status` calls: each rise is a poll round reaching it."""

    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True, name="poll-watch")
        self.stack = stack
        self.samples: list[tuple[float, int]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(POLL_WATCH_INTERVAL):
            try:
                stats = self.stack.control("stats")
            except httpx.HTTPError:
                continue
            self.samples.append((time.monotonic(), int(stats["requests"].get("status", 0))))  # type: ignore[index]

    def first_rise_after(self, moment: float) -> float | None:
        before = [count for at, count in self.samples if at <= moment]
        if not before:
            return None
        for at, count in self.samples:
            if at > moment and count > before[-1]:
                return at
        return None


def product_fates(stop: threading.Event, stack: Stack, rng: random.Random, log: ClientLog) -> None:
    """The provider's side of product orders: the sandbox ends them Completed unless told, so
    each one it takes is given a fate once, as it arrives: 30 % Partial (half its lines
    delivered, charged for those), 10 % Canceled. The refund check then measures each Partial
    against the sandbox's charge for it."""
    from django.db import DatabaseError, connection

    from orders.models import ProductOrder

    fated: set[str] = set()
    while not stop.wait(1):
        try:
            upstream = list(
                ProductOrder.objects.filter(upstream_id__isnull=False)
                .exclude(upstream_id__in=fated)
                .values_list("upstream_id", flat=True)
            )
        except DatabaseError:
            connection.close()
            continue
        for upstream_id in upstream:
            fated.add(upstream_id)
            draw = rng.random()
            status = "Partial" if draw < 0.3 else "Canceled" if draw < 0.4 else ""
            if not status:
                continue
            try:
                stack.control("force", product_order=int(upstream_id), status=status)
                log.count(f"provider: product order {status}")
            except httpx.HTTPError:
                log.count("provider: product order fate refused")
    connection.close()
