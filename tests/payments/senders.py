"""Webhook senders that sign exactly as each gateway documents, built here from the published
schemes, never with the panel's own verification code."""

import base64
import hashlib
import hmac
import json
import time
from http.server import BaseHTTPRequestHandler

from django.test import Client

BANK_ACCOUNT = "0011001800879"
SEPAY_KEY = "sepay-test-key-0123456789"
CASSO_KEY = "mgExMrjj4i7a1p8Cs6LmFbpCd8lbw4sSX4LZXPag7TKazeIogtR90tvWYTkwQbvs"
STRIPE_WEBHOOK_SECRET = "whsec_test_secret_0123456789"
CRYPTOMUS_KEY = "cryptomus-payment-key-0123456789"


def sepay_body(*, transfer_id: int, amount: object, content: str, **extra: object) -> dict:
    return {
        "id": transfer_id,
        "gateway": "Vietcombank",
        "transactionDate": "2026-11-30 14:02:37",
        "accountNumber": BANK_ACCOUNT,
        "code": None,
        "content": content,
        "transferType": "in",
        "transferAmount": amount,
        "accumulated": 19077000,
        "subAccount": None,
        "referenceCode": f"MBVCB.{transfer_id}",
        "description": "",
        **extra,
    }


def post_sepay(client: Client, body: dict, *, key: str = SEPAY_KEY, **extra: str) -> object:
    return client.post(
        "/payments/webhooks/sepay/",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Apikey {key}",
        **extra,
    )


def casso_body(*, transfer_id: int, amount: object, description: str) -> dict:
    return {
        "error": 0,
        "data": {
            "id": transfer_id,
            "reference": f"FT{transfer_id}",
            "description": description,
            "amount": amount,
            "runningBalance": 25000000,
            "transactionDateTime": "2026-11-30 15:06:37",
            "accountNumber": BANK_ACCOUNT,
            "bankName": "BIDV",
            "bankAbbreviation": "BIDV",
            "virtualAccountNumber": "",
            "virtualAccountName": "",
            "counterAccountName": "NGUYEN VAN A",
            "counterAccountNumber": "8888888888",
            "counterAccountBankId": "970415",
            "counterAccountBankName": "VietinBank",
        },
    }


def casso_signature(body: dict, *, key: str = CASSO_KEY, stamp_ms: int | None = None) -> str:
    stamp_ms = stamp_ms if stamp_ms is not None else int(time.time() * 1000)
    message = f"{stamp_ms}.{json.dumps(body, sort_keys=True, separators=(',', ':'))}"
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha512).hexdigest()
    return f"t={stamp_ms},v1={digest}"


def casso_node_signature(body: dict, *, key: str = CASSO_KEY) -> str:
    """As Casso's Node reference signer: JSON.stringify(sortObjDataByKey(data)), which keeps
    Vietnamese letters as UTF-8 where Python's json.dumps writes \\u escapes. (Enough for
    string and integer values with plain key names, which is what Casso sends.)"""
    stamp_ms = int(time.time() * 1000)
    text = json.dumps(_sorted(body), ensure_ascii=False, separators=(",", ":"))
    digest = hmac.new(key.encode(), f"{stamp_ms}.{text}".encode(), hashlib.sha512).hexdigest()
    return f"t={stamp_ms},v1={digest}"


def _sorted(data: object) -> object:
    if isinstance(data, dict):
        return {key: _sorted(data[key]) for key in sorted(data)}
    return data


def post_casso(client: Client, body: dict, *, signature: str | None = None, **extra: str) -> object:
    return client.post(
        "/payments/webhooks/casso/",
        data=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        HTTP_X_CASSO_SIGNATURE=signature or casso_signature(body),
        **extra,
    )


def post_stripe(
    client: Client, event: dict, *, secret: str = STRIPE_WEBHOOK_SECRET, stamp: int | None = None
) -> object:
    payload = json.dumps(event)
    return client.post(
        "/payments/webhooks/stripe/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload, secret=secret, stamp=stamp),
    )


def stripe_signature(
    payload: str, *, secret: str = STRIPE_WEBHOOK_SECRET, stamp: int | None = None
) -> str:
    """The `Stripe-Signature` header of `payload`: HMAC-SHA256 of "timestamp.payload"."""
    stamp = stamp if stamp is not None else int(time.time())
    v1 = hmac.new(secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={stamp},v1={v1}"


def cryptomus_signed(data: dict, *, key: str = CRYPTOMUS_KEY) -> dict:
    # The documented PHP: md5(base64_encode(json_encode($data, JSON_UNESCAPED_UNICODE)) . $key)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")
    digest = hashlib.md5(base64.b64encode(text.encode()) + key.encode()).hexdigest()  # noqa: S324
    return {**data, "sign": digest}


def post_cryptomus(client: Client, body: dict) -> object:
    return client.post(
        "/payments/webhooks/cryptomus/",
        data=json.dumps(body, ensure_ascii=False),
        content_type="application/json",
    )


class GatewayStub(BaseHTTPRequestHandler):
    """A loopback stand-in for Stripe's and Cryptomus' APIs (the `stub` fixture serves it)."""

    requests: list[tuple[str, dict[str, str], bytes]] = []
    answer: dict = {}

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        GatewayStub.requests.append((self.path, dict(self.headers), body))
        data = json.dumps(GatewayStub.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass
