"""Reading request fields the liberal way: query string, urlencoded, multipart or JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

MAX_BODY_BYTES = 10 * 1024 * 1024


class BadInput(Exception):
    """The body cannot be read as any of the accepted encodings."""


def parse_fields(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Query fields, overridden by body fields. JSON values keep their JSON type."""
    fields: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    fields.update(_parse_body(content_type.lower(), body))
    return fields


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    if "multipart/form-data" in content_type:
        return _parse_multipart(content_type, body)
    # Some scripts send JSON labelled as a form; a form never starts with "{".
    if "json" in content_type or body.lstrip().startswith(b"{"):
        return _parse_json(body)
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body, parse_float=Decimal)
    except ValueError:
        raise BadInput("Malformed JSON body") from None
    if not isinstance(data, dict):
        raise BadInput("The JSON body must be an object")
    return data


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    header = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise BadInput("Malformed multipart body")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if name:
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            fields[str(name)] = text
    return fields


def as_text(value: Any) -> str | None:
    """A field as the protocol's text; JSON null counts as absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def text_fields(fields: dict[str, Any]) -> dict[str, str]:
    texts = {name: as_text(value) for name, value in fields.items()}
    return {name: text for name, text in texts.items() if text is not None}


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
