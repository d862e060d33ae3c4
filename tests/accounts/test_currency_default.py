"""The currency columns default to the panel's currency through a callable: a literal default
would freeze one machine's PANEL_CURRENCY into the migrations (VND where the panel speaks
Vietnamese, USD elsewhere), and `makemigrations --check` would fail on the other."""

import pytest
from django.test import override_settings

from accounts.child_panels import ChildPanel
from accounts.models import User
from core.money import panel_currency


@pytest.mark.parametrize("model", [User, ChildPanel])
def test_the_currency_default_is_read_when_a_row_is_made(model: type) -> None:
    field = model._meta.get_field("currency")
    assert field.default is panel_currency
    with override_settings(PANEL_CURRENCY="VND"):
        assert field.get_default() == "VND"
    with override_settings(PANEL_CURRENCY="USD"):
        assert field.get_default() == "USD"
