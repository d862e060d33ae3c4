"""The sandbox provider's memory: catalog, balance, orders, refills, product orders."""

from __future__ import annotations

import heapq
import random
import threading
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

from sandbox.catalog import Product, Service, build_products, build_services
from sandbox.config import SandboxConfig
from sandbox.errors import (
    CANCEL_UNAVAILABLE,
    INCORRECT_ORDER,
    INCORRECT_PRODUCT,
    LINK_DUPLICATE,
    NO_FUNDS,
    OUT_OF_STOCK,
    REFILL_UNAVAILABLE,
    ApiError,
    quantity_too_high,
    quantity_too_low,
)
from sandbox.money import decimal_str, dumps
from sandbox.records import (
    CANCELED,
    COMPLETED,
    FINAL_STATUSES,
    PARTIAL,
    PENDING,
    REJECTED,
    Order,
    ProductOrder,
    Refill,
    order_answer,
    order_progress,
    order_refund_due,
    product_order_answer,
    product_order_refund_due,
    refill_status,
)


class SandboxState:
    """Everything the sandbox knows. Every read or write of it runs under `lock`,
    except the pre-encoded catalog answers, which are swapped whole."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        # Bumped on every change worth saving; the saver compares it.
        self.version = 0
        self.reset()

    def reset(self) -> None:
        """Back to the seeded start: the same seed gives the same ids and fates again."""
        with self.lock:
            seed = self.config.seed
            ids = random.Random(f"{seed}:ids")
            self.rng = random.Random(f"{seed}:orders")
            # Kept apart from `rng` so test-driven catalog changes do not shift order fates.
            self.control_rng = random.Random(f"{seed}:control")
            self.next_order_id = 100_000 + ids.randrange(900_000)
            self.next_refill_id = 20_000 + ids.randrange(80_000)
            self.next_product_order_id = 5_000_000 + ids.randrange(1_000_000)
            self.services: dict[int, Service] = {
                service.service: service for service in build_services(seed, self.config.services)
            }
            self.next_service_id = max(self.services, default=0) + 1
            self.products: dict[int, Product] = {
                product.product: product for product in build_products(seed, self.config.products)
            }
            self.balance: Decimal = self.config.balance
            self.orders: dict[int, Order] = {}
            self.refills: dict[int, Refill] = {}
            self.product_orders: dict[int, ProductOrder] = {}
            # (ends_at, order id) of orders whose fate refunds part of the charge.
            self.due_refunds: list[tuple[float, int]] = []
            self.add_calls = 0
            self.adds_per_link: Counter[str] = Counter()
            self.requests: Counter[str] = Counter()
            # How often each order id was asked about in `status`: benchmarks check that
            # pollers sharing a round never ask about one order twice.
            self.status_asked: Counter[int] = Counter()
            self.catalog_changed()
            self.products_changed()

    def now(self) -> float:
        return self.config.clock()

    def touch(self) -> None:
        self.version += 1

    # Counters ---------------------------------------------------------------

    def count_request(self, action: str) -> None:
        with self.lock:
            self.requests[action] += 1

    def count_add(self, link: str) -> None:
        with self.lock:
            self.add_calls += 1
            self.adds_per_link[link] += 1

    # Catalog ----------------------------------------------------------------

    def catalog_changed(self) -> None:
        self._services_body: bytes | None = None
        self.touch()

    def products_changed(self) -> None:
        self._products_body: bytes | None = None
        self.touch()

    def services_body(self) -> bytes:
        body = self._services_body
        if body is None:
            with self.lock:
                if self._services_body is None:
                    answer = [service.as_protocol() for service in self.services.values()]
                    self._services_body = dumps(answer)
                body = self._services_body
        return body

    def products_body(self) -> bytes:
        body = self._products_body
        if body is None:
            with self.lock:
                if self._products_body is None:
                    answer = [product.as_protocol() for product in self.products.values()]
                    self._products_body = dumps(answer)
                body = self._products_body
        return body

    def service(self, service_id: int) -> Service | None:
        return self.services.get(service_id)

    # Balance ----------------------------------------------------------------

    def balance_answer(self) -> dict[str, Any]:
        with self.lock:
            self.settle()
            return {"balance": decimal_str(self.balance), "currency": self.config.currency}

    def settle(self) -> None:
        """Credit the refunds of orders that turned Partial or Canceled by now."""
        with self.lock:
            now = self.now()
            while self.due_refunds and self.due_refunds[0][0] <= now:
                _, order_id = heapq.heappop(self.due_refunds)
                order = self.orders.get(order_id)
                if order is not None:
                    self.settle_order(order, now)

    def settle_order(self, order: Order, now: float) -> None:
        # Idempotent: credits (or takes back) only the difference to what is due.
        delta = order_refund_due(order, now) - order.refunded
        if delta:
            self.balance += delta
            order.refunded += delta
            self.touch()

    def settle_product_order(self, order: ProductOrder, now: float) -> None:
        delta = product_order_refund_due(order, now) - order.refunded
        if delta:
            self.balance += delta
            order.refunded += delta
            self.touch()

    def _debit(self, amount: Decimal) -> None:
        self.settle()
        if amount > self.balance:
            raise ApiError(NO_FUNDS)
        self.balance -= amount

    # Orders -----------------------------------------------------------------

    def order_create(
        self,
        *,
        service: Service,
        link: str,
        quantity: int,
        charge: Decimal,
        fields: dict[str, str],
    ) -> int:
        """Debit the charge and create the order; raises ApiError when funds are short, or when
        the link has an open order of this service and the config refuses that."""
        with self.lock:
            if self.config.is_one_order_per_link and self._has_open_order(service, link):
                raise ApiError(LINK_DUPLICATE)
            self._debit(charge)
            order = self.new_order(service, link, quantity, charge, self.now())
            order.fields = fields
            return order.id

    def _has_open_order(self, service: Service, link: str) -> bool:
        now = self.now()
        return any(
            order.service_id == service.service
            and order.link == link
            and order_progress(order, now)[0] not in FINAL_STATUSES
            for order in self.orders.values()
        )

    def new_order(
        self,
        service: Service,
        link: str,
        quantity: int,
        charge: Decimal,
        created_at: float,
        *,
        is_seeded: bool = False,
    ) -> Order:
        """Create an order without checks or debit (the lock must be held)."""
        fate, fate_remains = self._draw_fate(quantity)
        starts_at = created_at + self.config.pending_seconds
        ends_at = starts_at + self.config.run_seconds
        order = Order(
            id=self.next_order_id,
            service_id=service.service,
            link=link,
            quantity=quantity,
            charge=charge,
            created_at=created_at,
            starts_at=starts_at,
            ends_at=ends_at,
            start_count=self.rng.randint(0, 20_000),
            fate=fate,
            fate_remains=fate_remains,
            can_refill=service.refill,
            can_cancel=service.cancel,
            is_seeded=is_seeded,
        )
        self.next_order_id += 1
        self.orders[order.id] = order
        if fate != COMPLETED and not is_seeded:
            heapq.heappush(self.due_refunds, (ends_at, order.id))
        self.touch()
        return order

    def _draw_fate(self, quantity: int) -> tuple[str, int]:
        draw = self.rng.random()
        if draw < self.config.cancel_rate:
            return CANCELED, quantity
        if draw < self.config.cancel_rate + self.config.partial_rate and quantity >= 2:
            remains = round(quantity * self.rng.uniform(0.1, 0.6))
            return PARTIAL, min(max(remains, 1), quantity - 1)
        return COMPLETED, 0

    def order(self, order_id: int | None) -> Order:
        order = self.orders.get(order_id) if order_id is not None else None
        if order is None:
            raise ApiError(INCORRECT_ORDER)
        return order

    def order_answers(self, order_ids: list[int | None]) -> list[dict[str, Any] | None]:
        with self.lock:
            self.status_asked.update(order_id for order_id in order_ids if order_id is not None)
            now = self.now()
            currency = self.config.currency
            answers: list[dict[str, Any] | None] = []
            for order_id in order_ids:
                order = self.orders.get(order_id) if order_id is not None else None
                answers.append(None if order is None else order_answer(order, now, currency))
            return answers

    def order_cancel(self, order_id: int | None) -> None:
        """A Pending order ends Canceled; a started one Partial with what remains now."""
        with self.lock:
            order = self.order(order_id)
            now = self.now()
            status, remains = order_progress(order, now)
            if not order.can_cancel or status in FINAL_STATUSES:
                raise ApiError(CANCEL_UNAVAILABLE)
            # Nothing delivered yet: a Partial with full remains would be a Canceled.
            is_untouched = status == PENDING or remains >= order.quantity
            order.forced_status = CANCELED if is_untouched else PARTIAL
            order.forced_remains = order.quantity if is_untouched else remains
            self.settle_order(order, now)
            self.touch()

    # Refills ----------------------------------------------------------------

    def refill_create(self, order_id: int | None) -> int:
        with self.lock:
            order = self.order(order_id)
            now = self.now()
            status, _ = order_progress(order, now)
            if not order.can_refill or status not in (COMPLETED, PARTIAL):
                raise ApiError(REFILL_UNAVAILABLE)
            if self.config.refill_refuse_rate and (
                self.rng.random() < self.config.refill_refuse_rate
            ):
                raise ApiError(REFILL_UNAVAILABLE)
            is_rejected = self.rng.random() < self.config.refill_rejected_rate
            starts_at = now + self.config.pending_seconds
            refill = Refill(
                id=self.next_refill_id,
                order_id=order.id,
                created_at=now,
                starts_at=starts_at,
                ends_at=starts_at + self.config.run_seconds,
                fate=REJECTED if is_rejected else COMPLETED,
            )
            self.next_refill_id += 1
            self.refills[refill.id] = refill
            self.touch()
            return refill.id

    def refill_statuses(self, refill_ids: list[int | None]) -> list[str | None]:
        with self.lock:
            now = self.now()
            refills = [self.refills.get(rid) if rid is not None else None for rid in refill_ids]
            return [None if refill is None else refill_status(refill, now) for refill in refills]

    # Products ---------------------------------------------------------------

    def product_order_create(self, *, product_id: int | None, quantity: int, require: str) -> int:
        """Check stock and limits, debit, take the units from the inventory."""
        with self.lock:
            product = self.products.get(product_id) if product_id is not None else None
            if product is None:
                raise ApiError(INCORRECT_PRODUCT)
            if not product.is_in_stock:
                raise ApiError(OUT_OF_STOCK)
            if quantity < product.min:
                raise ApiError(quantity_too_low(product.min))
            if quantity > product.max:
                raise ApiError(quantity_too_high(product.max))
            if product.inventory is not None and quantity > product.inventory:
                raise ApiError(OUT_OF_STOCK)
            self._debit(product.rate * quantity)
            if product.inventory is not None:
                product.inventory -= quantity
                self.products_changed()
            return self._new_product_order(product, quantity, require).id

    def _new_product_order(self, product: Product, quantity: int, require: str) -> ProductOrder:
        now = self.now()
        starts_at = now + self.config.pending_seconds
        result = "\n".join(self._random_uuid() for _ in range(quantity))
        order = ProductOrder(
            id=self.next_product_order_id,
            product_id=product.product,
            quantity=quantity,
            charge=product.rate * quantity,
            require=require,
            created_at=now,
            starts_at=starts_at,
            ends_at=starts_at + self.config.run_seconds,
            result=result,
        )
        self.next_product_order_id += 1
        self.product_orders[order.id] = order
        self.touch()
        return order

    def _random_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def product_order_answers(self, order_ids: list[int | None]) -> list[dict[str, Any] | None]:
        with self.lock:
            now = self.now()
            orders = [
                self.product_orders.get(oid) if oid is not None else None for oid in order_ids
            ]
            return [None if order is None else product_order_answer(order, now) for order in orders]
