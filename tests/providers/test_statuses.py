"""The protocol's statuses say their own open and final sets and spellings, and the services
name them through the enums, never as bare words."""

import ast
from pathlib import Path

import pytest

from providers.statuses import OrderStatus, ProductOrderStatus, ProtocolStatus, RefillStatus

ROOT = Path(__file__).resolve().parents[2]
ENUMS: list[type[ProtocolStatus]] = [OrderStatus, RefillStatus, ProductOrderStatus]


@pytest.mark.parametrize("enum", ENUMS)
def test_every_status_is_open_or_final_never_both(enum: type[ProtocolStatus]) -> None:
    opens, finals = set(enum.opens()), enum.finals()
    assert opens | finals == set(enum.values)
    assert not opens & finals
    assert enum.PENDING in opens


def test_the_final_sets_are_the_protocols() -> None:
    assert OrderStatus.finals() == {"Completed", "Partial", "Canceled"}
    assert RefillStatus.finals() == {"Completed", "Rejected"}
    assert ProductOrderStatus.finals() == {"Completed", "Partial", "Canceled"}


@pytest.mark.parametrize(
    ("enum", "answer", "status"),
    [
        (OrderStatus, " in progress ", "In progress"),
        (OrderStatus, "PAUSED", "In progress"),
        (OrderStatus, "refunded", "Canceled"),
        (ProductOrderStatus, "Processing", "In progress"),
        (ProductOrderStatus, "cancelled", "Canceled"),
        (RefillStatus, "rejected", "Rejected"),
        (RefillStatus, "Partial", None),
        (OrderStatus, "Rejected", None),
    ],
)
def test_read_maps_a_providers_spelling_to_the_kinds_status(
    enum: type[ProtocolStatus], answer: str, status: str | None
) -> None:
    assert enum.read(answer) == status


def test_services_and_the_lifecycle_name_no_status_by_its_bare_word() -> None:
    words = {value for enum in ENUMS for value in enum.values}
    found = []
    for folder in ("orders/services", "orders/lifecycle"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and node.value in words:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert found == []
