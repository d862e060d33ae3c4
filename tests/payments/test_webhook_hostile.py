"""Crafted, unauthenticated requests to the four webhook URLs: form bodies, malformed and
non-ASCII signature headers, odd bodies. Each is refused with a 4xx (400 or 401), never a 500,
and nothing is recorded."""

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from payments.models import Deposit
from tests.payments.senders import casso_body, cryptomus_signed, sepay_body

pytestmark = [
    pytest.mark.usefixtures("bank", "stripe_gateway", "cryptomus_gateway"),
    pytest.mark.django_db,
]
GATEWAYS = ("sepay", "casso", "stripe", "cryptomus")
SIGNATURE_HEADERS = {
    "sepay": "HTTP_AUTHORIZATION",
    "casso": "HTTP_X_CASSO_SIGNATURE",
    "stripe": "HTTP_STRIPE_SIGNATURE",
    "cryptomus": "HTTP_SIGN",
}
FUZZ = hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SHA512_HEX = "ab" * 64


def _refused(response: Any) -> None:
    assert response.status_code in (400, 401), response.content
    assert json.loads(response.content)["success"] is False
    assert not Deposit.objects.exists()


def _json_body(gateway: str) -> dict:
    if gateway == "sepay":
        return sepay_body(transfer_id=1, amount=100000, content="NAP1")
    if gateway == "casso":
        return casso_body(transfer_id=1, amount=100000, description="NAP1")
    if gateway == "cryptomus":
        return {"uuid": "u", "order_id": "o", "status": "paid", "sign": "0" * 32}
    return {"id": "evt", "type": "checkout.session.completed", "data": {"object": {}}}


@pytest.mark.parametrize("gateway", GATEWAYS)
@pytest.mark.parametrize(
    "form",
    [
        {"a": "1"},
        {"sign": "é", "data": "{}"},
        {"file": ("x.json", b'{"error":0}', "application/json")},
    ],
)
def test_multipart_bodies_are_refused(client: Client, gateway: str, form: dict) -> None:
    """The page middleware reads a multipart body as a form first; reading the raw body for
    the signature then raised RawPostDataException (500)."""
    if "file" in form:
        from django.core.files.uploadedfile import SimpleUploadedFile

        name, content, kind = form["file"]
        form = {"file": SimpleUploadedFile(name, content, content_type=kind)}
    response = client.post(
        f"/payments/webhooks/{gateway}/", data=form, HTTP_AUTHORIZATION="Apikey x"
    )
    _refused(response)


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_urlencoded_bodies_are_refused(client: Client, gateway: str) -> None:
    response = client.post(
        f"/payments/webhooks/{gateway}/",
        data="a=1&sign=%C3%A9",
        content_type="application/x-www-form-urlencoded",
    )
    _refused(response)


@pytest.mark.parametrize(
    "header",
    [
        "t=²,v1=" + SHA512_HEX,  # a digit to str.isdigit(), not to int()
        "t=١٢٣,v1=" + SHA512_HEX,  # Arabic-Indic digits
        "t=" + "9" * 400 + "," + "v1=" + SHA512_HEX,  # too large for a float
        "t=-1,v1=" + SHA512_HEX,
        "t=,v1=" + SHA512_HEX,
        "t=1.5,v1=" + SHA512_HEX,
        "t=1e3,v1=" + SHA512_HEX,
        "t=0x10,v1=" + SHA512_HEX,
        "t=1,v1=é" + SHA512_HEX[2:],
        "t=1,v1=" + "é" * 128,
        "t=1",
        "v1=" + SHA512_HEX,
        "t=1,,,v1=",
        "é",
        "",
    ],
)
def test_casso_malformed_signature_headers_are_refused(client: Client, header: str) -> None:
    body = casso_body(transfer_id=1, amount=100000, description="NAP1")
    response = client.post(
        "/payments/webhooks/casso/",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_X_CASSO_SIGNATURE=header,
    )
    assert response.status_code == 401
    _refused(response)


@pytest.mark.parametrize("header", ["t=1,v1=é", "t=é,v1=ab", "t=1,v1=" + "ü" * 64, "ä"])
def test_stripe_non_ascii_signature_headers_are_refused(client: Client, header: str) -> None:
    response = client.post(
        "/payments/webhooks/stripe/",
        data=json.dumps(_json_body("stripe")),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    _refused(response)


@pytest.mark.parametrize("sign", ["é", "é" * 32, "ÄB" * 16, "0" * 31 + "é", "", "x" * 5000])
def test_cryptomus_non_ascii_signs_are_refused(client: Client, sign: str) -> None:
    body = {**cryptomus_signed({"uuid": "u", "order_id": "o", "status": "paid"}), "sign": sign}
    response = client.post(
        "/payments/webhooks/cryptomus/",
        data=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
    )
    assert response.status_code == 401
    _refused(response)


@pytest.mark.parametrize("gateway", GATEWAYS)
@pytest.mark.parametrize(
    "body",
    [b"", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 5000 + b"1" + b"}" * 5000],
)
def test_undecodable_and_deeply_nested_bodies_are_refused(
    client: Client, gateway: str, body: bytes
) -> None:
    response = client.post(
        f"/payments/webhooks/{gateway}/",
        data=body,
        content_type="application/json",
        **{SIGNATURE_HEADERS[gateway]: "t=1,v1=" + SHA512_HEX},
    )
    assert response.status_code < 500


HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=1, max_codepoint=0x2FF, exclude_categories=["Cs"]),
    max_size=60,
) | st.builds(
    lambda stamp, sig: f"t={stamp},v1={sig}",
    st.text(alphabet="0123456789²³¹١٢-+. e", max_size=20),
    st.text(alphabet="0123456789abcdefé", max_size=130),
)


@FUZZ
@given(gateway=st.sampled_from(GATEWAYS), header=HEADER_TEXT, body=st.binary(max_size=200))
def test_fuzzed_headers_and_bodies_never_answer_5xx(
    client: Client, gateway: str, header: str, body: bytes
) -> None:
    for payload in (body, json.dumps(_json_body(gateway), ensure_ascii=False).encode()):
        response = client.post(
            f"/payments/webhooks/{gateway}/",
            data=payload,
            content_type="application/json",
            **{SIGNATURE_HEADERS[gateway]: header},
        )
        assert response.status_code in (400, 401), (gateway, header, payload)
    assert not Deposit.objects.exists()
