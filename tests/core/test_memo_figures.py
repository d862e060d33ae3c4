"""Figures a stored memo carries are written as the reader's language writes them."""

import pytest
from django.utils import translation

from core import memos


def _in(language: str, code: str, params: dict) -> str:
    with translation.override(language):
        return memos.render(code, params)


@pytest.mark.parametrize("base", [20000, "20000"])  # an older row kept the digits as text
def test_a_partial_set_by_an_admin_groups_its_quantities(base: object) -> None:
    params = {"delivered": 12500, "base": base}

    assert _in("vi", "partial_by_admin_delivered", params).endswith("đã chạy 12.500/20.000")
    assert _in("en", "partial_by_admin_delivered", params) == (
        "Partial, set by an admin: 12,500 of 20,000 delivered"
    )


def test_the_providers_charge_keeps_every_digit_in_the_readers_notation() -> None:
    params = {"charge": "1234.125"}

    assert _in("vi", "partial_by_admin_charged", params).endswith("đã tính 1.234,125")
    assert _in("en", "partial_by_admin_charged", params).endswith("charged 1,234.125")


def test_a_figure_that_is_not_a_number_is_shown_as_stored() -> None:
    credited = {"gateway": "sepay", "id": 5, "credited": "10", "arrived": "?"}

    assert "instead of ?" in _in("en", "deposit_other_amount", credited)
    assert _in("en", "partial_by_admin_charged", {"charge": "n/a"}).endswith("charged n/a")
