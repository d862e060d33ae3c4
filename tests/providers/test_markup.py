from decimal import Decimal

from providers.markup import Markup, effective_markup, rule_at, selling_rate


def test_most_specific_rule_wins_as_a_whole() -> None:
    service, category, provider = (
        rule_at(None, Decimal("0.5")),
        rule_at(Decimal(10), None),
        rule_at(Decimal(25), Decimal(1)),
    )

    assert effective_markup(service, category, provider) == Markup(
        percent=Decimal(0), fixed=Decimal("0.5")
    )
    assert effective_markup(None, category, provider) == Markup(
        percent=Decimal(10), fixed=Decimal(0)
    )
    assert effective_markup(None, None, provider) == Markup(percent=Decimal(25), fixed=Decimal(1))
    assert effective_markup(None, None, None) == Markup(percent=Decimal(0), fixed=Decimal(0))


def test_selling_rate_converts_currency_then_marks_up_then_adds_fixed() -> None:
    rate = selling_rate(
        upstream_rate=Decimal("2"),
        exchange_rate=Decimal("0.5"),
        markup=Markup(Decimal(25), Decimal("0.1")),
    )
    assert rate == Decimal("1.35")  # 2 × 0.5 = 1.00 → +25 % = 1.25 → +0.10


def test_selling_rate_rounds_up_so_the_markup_is_never_undersold() -> None:
    rate = selling_rate(
        upstream_rate=Decimal("0.0001234"),
        exchange_rate=Decimal(1),
        markup=Markup(Decimal(33), Decimal(0)),
    )
    assert rate == Decimal("0.000165")  # 0.000164122 rounded up at six places


def test_selling_rate_never_goes_negative_with_a_discounting_rule() -> None:
    assert selling_rate(
        upstream_rate=Decimal("1"),
        exchange_rate=Decimal(1),
        markup=Markup(Decimal(-50), Decimal(-5)),
    ) == Decimal(0)
