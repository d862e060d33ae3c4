"""Arbitrary (correctly authenticated) webhook bodies never make a webhook answer a 5xx, and
never credit anything that is not a well-formed incoming transfer."""

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.selectors import ledger_mismatches
from tests.payments.senders import (
    casso_body,
    casso_signature,
    cryptomus_signed,
    post_cryptomus,
    post_sepay,
    sepay_body,
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
FUZZ = hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _answer_is_sound(response: Any) -> None:
    assert response.status_code < 500
    assert isinstance(json.loads(response.content), dict)
    assert ledger_mismatches() == []


@pytest.mark.usefixtures("bank")
@pytest.mark.django_db
@FUZZ
@given(
    changes=st.dictionaries(
        st.sampled_from(
            ["id", "transferAmount", "transferType", "accountNumber", "content", "code"]
        ),
        JSON,
        max_size=4,
    )
)
def test_sepay_never_answers_5xx(client: Client, changes: dict) -> None:
    _answer_is_sound(
        post_sepay(client, {**sepay_body(transfer_id=1, amount=100000, content="NAP1"), **changes})
    )


@pytest.mark.usefixtures("bank")
@pytest.mark.django_db
@FUZZ
@given(data=JSON, error=JSON)
def test_casso_never_answers_5xx(client: Client, data: Any, error: Any) -> None:
    for body in (
        {"error": error, "data": data},
        {**casso_body(transfer_id=1, amount=1000, description="x"), "data": data},
    ):
        response = client.post(
            "/payments/webhooks/casso/",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_X_CASSO_SIGNATURE=casso_signature(body),
        )
        _answer_is_sound(response)


@pytest.mark.usefixtures("cryptomus_gateway")
@pytest.mark.django_db
@FUZZ
@given(
    body=st.dictionaries(
        st.sampled_from(["uuid", "order_id", "status", "amount", "currency", "type"]),
        JSON,
        max_size=6,
    )
)
def test_cryptomus_never_answers_5xx(client: Client, body: dict) -> None:
    _answer_is_sound(post_cryptomus(client, cryptomus_signed(body)))


@pytest.mark.usefixtures("bank")
@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [{"id": "\x00"}, {"content": "NAP1\x00"}, {"code": "\ud800"}, {"extra": {"k\x00": 1}}],
)
def test_text_the_database_cannot_keep_is_refused_with_a_4xx(client: Client, changes: dict) -> None:
    """Hypothesis found `{"id": "\\u0000"}`: the raw payload is stored on the deposit, and
    PostgreSQL refuses NUL bytes, so it answered 500."""
    body = {**sepay_body(transfer_id=7, amount=100000, content="NAP1"), **changes}

    response = post_sepay(client, body)

    assert response.status_code == 400
    assert json.loads(response.content)["error"] == "malformed body"
