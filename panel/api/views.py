"""The reseller API: one endpoint, `/api/v2`, answering the v2 protocol of docs/protocol.md."""

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import (
    BaseParser,
    DataAndFiles,
    FormParser,
    JSONParser,
    MultiPartParser,
)
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import keys
from accounts.models import User
from accounts.services import api_key_accept, api_key_authenticate
from core.ids import parse_id
from core.text import is_intact
from panel.api import throttle
from panel.api.catalog_cache import RawJson
from panel.api.errors import INCORRECT_REQUEST, Throttled, error_response, exception_handler
from panel.api.handlers import HANDLERS, READS, add
from providers.selectors import ServiceRead, api_key_with_service_for_order

logger = logging.getLogger(__name__)
INVALID_KEY = "Invalid API key"


def _params(request: Request) -> dict[str, str]:
    """Query string and body merged (the body wins), every value as text, last one of a repeat."""
    params = {key: values[-1] for key, values in request.query_params.lists() if values}
    data = request.data
    if hasattr(data, "lists"):
        params.update({key: values[-1] for key, values in data.lists() if values})
    elif isinstance(data, dict):
        params.update({key: _text(value) for key, value in data.items() if value is not None})
    elif data:
        raise exceptions.ParseError()
    params = {
        str(key): value if isinstance(value, str) else _text(value) for key, value in params.items()
    }
    # NUL or a lone surrogate would fail deep in a query; U+FFFD marks bytes that were not UTF-8
    # (form decoding replaces them), and an altered link must not be bought upstream.
    if not all(is_intact(key) and is_intact(value) for key, value in params.items()):
        raise exceptions.ParseError()
    return params


def _body_too_large(request: Request) -> bool:
    """Decided from the declared length, before a byte of the body is read: the key is in the
    body, so a huge body with a bogus key would otherwise be read in full."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > settings.PANEL_API_MAX_BODY_BYTES


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _key(request: Request, params: dict[str, str]) -> str:
    key = params.get("key", "").strip()
    if not key:
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer":
            key = credentials.strip()
    return key


def _authenticate(
    key: str, action: str, params: dict[str, str]
) -> tuple[User | None, ServiceRead | None]:
    """The key's user, or None for any key that is not a usable one. An `add` naming a
    service by number reads that service for the user with the key, in one query instead of
    two (docs/performance.md); it is checked only where `order_place` would read it, so every
    answer and its precedence stay as they are. Every other request reads the key alone."""
    service_id = parse_id(params.get("service")) if action == "add" else None
    if service_id is None:
        return api_key_authenticate(key=key), None
    key = key.strip()
    if not keys.is_well_formed(key):
        return None, None
    read = api_key_with_service_for_order(prefix=keys.lookup_prefix(key), service_id=service_id)
    user = api_key_accept(key=key, found=read.key if read is not None else None)
    if user is None or read is None:
        return None, None
    return user, ServiceRead(service_id=service_id, found=read.service)


class TolerantJSONParser(JSONParser):
    """A body nested deep enough to exhaust the decoder is a bad request, not a server fault."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError() from None


class FieldsOnlyMultiPartParser(MultiPartParser):
    """Multipart for clients that send their fields that way; a file has no place in v2."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> DataAndFiles:
        parsed = super().parse(stream, media_type, parser_context)
        if parsed.files:
            raise exceptions.ParseError()
        return parsed


class AlwaysJson(BaseContentNegotiation):
    """Every answer is JSON, whatever the client's Accept header says (some send text/html)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        content_type = request.content_type.split(";")[0].strip().lower()
        return next((parser for parser in parsers if parser.media_type == content_type), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return JSONRenderer(), JSONRenderer.media_type


class ApiV2View(APIView):
    """Routed outside the request's transaction (`non_atomic_requests`, panel/urls.py): every
    action that writes runs in a transaction of its own (`answer`), as the request's would,
    but `add`, which reads its key and service, then places the order with one statement that
    is its own transaction (orders.services.placing); the reading actions (handlers.READS)
    need none. No BEGIN and no COMMIT round trip for either."""

    authentication_classes: list = []
    permission_classes: list = []
    content_negotiation_class = AlwaysJson
    parser_classes = [FormParser, FieldsOnlyMultiPartParser, TolerantJSONParser]
    outside_request_transaction = True  # its errors leave the rollback flag alone (errors.py)

    def get_exception_handler(self) -> Callable[[Exception, Any], Response | None]:
        return exception_handler

    def get(self, request: Request) -> Response | HttpResponse:
        return self.answer(request)

    def post(self, request: Request) -> Response | HttpResponse:
        return self.answer(request)

    def answer(self, request: Request) -> Response | HttpResponse:
        if _body_too_large(request):
            return error_response(INCORRECT_REQUEST, rollback=False)
        params = _params(request)
        action = params.get("action", "").strip().lower()
        user, service_read = _authenticate(_key(request, params), action, params)
        if user is None:
            # Only failed attempts count against an address: resellers behind one proxy keep
            # working while someone next to them guesses keys.
            address = throttle.client_address(request)
            if wait := throttle.hit("badkey", address, settings.PANEL_API_BAD_KEY_RATE):
                raise Throttled(wait=wait)
            return error_response(INVALID_KEY, rollback=False)
        if wait := throttle.hit("key", str(user.pk), settings.PANEL_API_RATE, ahead=True):
            raise Throttled(wait=wait)
        answer: object
        if service_read is not None:
            answer = add(user, params, service_read=service_read)
        else:
            handler = HANDLERS.get(action)
            if handler is None:
                return error_response(INCORRECT_REQUEST, rollback=False)
            with nullcontext() if action in READS else transaction.atomic():
                answer = handler(user, params)
        if isinstance(answer, RawJson):
            return HttpResponse(answer.body, content_type="application/json")
        return Response(answer)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, exceptions.MethodNotAllowed):
            return error_response(INCORRECT_REQUEST, rollback=False)
        return super().handle_exception(exc)

    def finalize_response(
        self, request: Request, response: Response, *args: object, **kwargs: object
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response
