from decimal import Decimal

import pytest

from core.money import balance_str, money_json_number, money_str, parse_money, quantize_money


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("2.500000"), "2.5"),
        (Decimal("100"), "100"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.000001"), "0.000001"),
        (Decimal("0"), "0"),
        (Decimal("-0.00"), "0"),
    ],
)
def test_money_str_writes_plain_shortest_decimals(value: Decimal, text: str) -> None:
    assert money_str(value) == text


def test_balance_str_keeps_two_decimals_at_least() -> None:
    assert balance_str(Decimal("25")) == "25.00"
    assert balance_str(Decimal("68.686800")) == "68.6868"


def test_money_json_number_keeps_the_decimal_text() -> None:
    assert money_json_number(Decimal("7.500000")) == 7.5
    assert repr(money_json_number(Decimal("0.000123"))) == "0.000123"
    assert money_json_number(Decimal("5")) == 5 and isinstance(money_json_number(Decimal("5")), int)


def test_quantize_money_rounds_half_up_by_default() -> None:
    assert quantize_money(Decimal("0.0000005")) == Decimal("0.000001")


@pytest.mark.parametrize("bad", ["", "abc", "NaN", "Infinity", None])
def test_parse_money_rejects_non_numbers(bad: object) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        parse_money(bad)
