"""The sandbox's services and products: a curated set, then seeded generated ones."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sandbox.curated import (
    BRANDS,
    CURATED_PRODUCTS,
    CURATED_SERVICES,
    CUSTOM_COMMENTS,
    DEFAULT,
    DURATIONS,
    MAXIMUMS,
    MINIMUMS,
    PLATFORM_METRICS,
    STARTS,
    TAGS,
)
from sandbox.money import decimal_str


@dataclass(slots=True)
class Service:
    service: int
    name: str
    type: str
    category: str
    rate: Decimal
    min: int
    max: int
    refill: bool
    cancel: bool
    dripfeed: bool
    desc: str

    def as_protocol(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "name": self.name,
            "type": self.type,
            "category": self.category,
            "rate": decimal_str(self.rate),
            "min": str(self.min),
            "max": str(self.max),
            "refill": self.refill,
            "cancel": self.cancel,
            "dripfeed": self.dripfeed,
            "desc": self.desc,
        }


def service_from_protocol(data: dict[str, Any]) -> Service:
    return Service(
        service=int(data["service"]),
        name=data["name"],
        type=data["type"],
        category=data["category"],
        rate=Decimal(str(data["rate"])),
        min=int(data["min"]),
        max=int(data["max"]),
        refill=bool(data["refill"]),
        cancel=bool(data["cancel"]),
        dripfeed=bool(data["dripfeed"]),
        desc=data["desc"],
    )


@dataclass(slots=True)
class Product:
    product: int
    name: str
    rate: Decimal
    min: int
    max: int
    category: str
    type: str
    require: str | None = None
    inventory: int | None = None

    @property
    def is_in_stock(self) -> bool:
        # Only Auto products hold an inventory; Service ones are made to order.
        return self.inventory is None or self.inventory > 0

    def as_protocol(self) -> dict[str, Any]:
        data: dict[str, Any] = {"product": self.product, "name": self.name}
        if self.require is not None:
            data["require"] = self.require
        data.update(
            rate=self.rate,
            min=self.min,
            max=self.max,
            category=self.category,
            status="In stock" if self.is_in_stock else "Out of stock",
        )
        if self.inventory is not None:
            data["inventory"] = self.inventory
        data["type"] = self.type
        return data


def build_services(seed: int, count: int) -> list[Service]:
    curated = [_curated_service(index + 1, row) for index, row in enumerate(CURATED_SERVICES)]
    services = curated[:count]
    return services + generate_services(
        seed, first_id=len(services) + 1, count=count - len(services)
    )


def _curated_service(service_id: int, row: tuple[Any, ...]) -> Service:
    name, kind, category, rate, minimum, maximum, refill, cancel, dripfeed = row
    return Service(
        service=service_id,
        name=name,
        type=kind,
        category=category,
        rate=Decimal(rate),
        min=minimum,
        max=maximum,
        refill=refill,
        cancel=cancel,
        dripfeed=dripfeed,
        desc=f"{name}. Start: 0-1 hours. Link: public profile or post URL.",
    )


def generate_services(seed: int, *, first_id: int, count: int) -> list[Service]:
    # One RNG per batch, keyed by its first id, so "add 5 services" gives the
    # same services after a restart whatever happened before.
    rng = random.Random(f"{seed}:services:{first_id}")
    return [_generated_service(rng, first_id + offset) for offset in range(max(count, 0))]


def _generated_service(rng: random.Random, service_id: int) -> Service:
    platform, metrics = rng.choice(PLATFORM_METRICS)
    metric = rng.choice(metrics)
    tags = rng.sample(TAGS, rng.randint(1, 2))
    is_comments = metric == "Comments"
    minimum = rng.choice(MINIMUMS)
    maximum = max(rng.choice(MAXIMUMS), minimum * 10)
    has_refill = any("Refill" in tag for tag in tags) or rng.random() < 0.3
    return Service(
        service=service_id,
        name=f"{platform} {metric} {' '.join(tags)}",
        type=CUSTOM_COMMENTS if is_comments else DEFAULT,
        category=f"{platform} {metric}",
        rate=_random_rate(rng),
        min=minimum,
        max=min(maximum, 5000) if is_comments else maximum,
        refill=has_refill,
        cancel=rng.random() < 0.5,
        dripfeed=not is_comments and rng.random() < 0.3,
        desc=f"Start: {rng.choice(STARTS)}. Speed: {rng.randint(1, 50)}K/day.",
    )


def _random_rate(rng: random.Random) -> Decimal:
    if rng.random() < 0.6:
        return Decimal(rng.randint(1, 2000)) / 100
    return Decimal(rng.randint(1, 9999)) / 10000


def build_products(seed: int, count: int) -> list[Product]:
    products = [
        Product(index + 1, name, Decimal(rate), low, high, category, kind, require, stock)
        for index, (name, category, rate, low, high, kind, require, stock) in enumerate(
            CURATED_PRODUCTS
        )
    ][:count]
    rng = random.Random(f"{seed}:products")
    for product_id in range(len(products) + 1, count + 1):
        products.append(_generated_product(rng, product_id))
    return products


def _generated_product(rng: random.Random, product_id: int) -> Product:
    brand = rng.choice(BRANDS)
    is_auto = rng.random() < 0.7
    return Product(
        product=product_id,
        name=f"{brand} {rng.choice(DURATIONS)}",
        rate=Decimal(rng.randint(50, 2000)) / 100,
        min=1,
        max=rng.choice((1, 2, 5, 10)),
        category=brand,
        type="Auto" if is_auto else "Service",
        require="Input your account" if rng.random() < 0.6 else None,
        inventory=rng.randint(0, 100) if is_auto else None,
    )
