"""The machinery every /adminapi/v2 endpoint shares (docs/admin-api.md): the staff key from the
`X-Api-Key` header, the owner's permission and the key's scopes and addresses, the per-key
throttle, one error shape, the call log, and the idempotency of writes.

Views run outside ATOMIC_REQUESTS: a refused call is logged even though nothing else is
written, and a write commits its effect together with its stored answer (`_write`), so a
crash between the two leaves neither and a retry acts once."""

import hashlib
import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import translation
from rest_framework import exceptions
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts.two_factor import lacks_required_two_factor
from core.errors import InvalidRequest, InvalidTransition, PanelError
from core.text import is_storable
from operatorapi.models import Scope, StaffApiKey
from operatorapi.services import (
    Claim,
    api_call_record,
    idempotency_abandon,
    idempotency_claim,
    idempotency_finish,
    staff_api_key_authenticate,
)
from panel.api import throttle
from panel.api.views import AlwaysJson

KEY_HEADER = "X-Api-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Endpoint:
    """What a call is, for the log, and what it needs: the owner's Django permission and, on a
    key narrowed to scopes, this scope."""

    action: str
    scope: Scope
    permission: str
    write: bool = False


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found(what: str = "object") -> ApiError:
    return ApiError(404, "not_found", f"No such {what}")


def error_body(code: str, message: str) -> dict[str, str]:
    return {"error_code": code, "error_message": message}


def _panel_error(exc: PanelError) -> ApiError:
    detail = getattr(exc, "detail", None)
    message = f"{exc.message}: {detail}" if detail and str(detail) != exc.message else exc.message
    code = "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in type(exc).__name__)[1:]
    status = 400 if isinstance(exc, InvalidRequest) else 409
    if isinstance(exc, InvalidTransition):
        code = "invalid_transition"
    return ApiError(status, code or "invalid_request", str(message))


class StaffKeyThrottle(BaseThrottle):
    """Per key, counted in the cache (Redis in production) by the reseller API's counters."""

    def __init__(self) -> None:
        self._wait: int | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        key: StaffApiKey = view.key  # type: ignore[attr-defined]
        self._wait = throttle.hit(
            "opkey", str(key.pk), settings.PANEL_OPERATOR_API_RATE, ahead=True
        )
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


def address_allowed(key: StaffApiKey, address: str) -> bool:
    if not key.allowed_networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    # A server listening on both stacks sees an IPv4 client as ::ffff:a.b.c.d: judged as a.b.c.d.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(network) for network in key.allowed_networks)


def key_allows(key: StaffApiKey, endpoint: Endpoint) -> bool:
    """Never more than the owner may do: their permission (a superuser has all), then the
    key's scopes when it has any."""
    owner = key.user
    if key.scopes and endpoint.scope not in key.scopes:
        return False
    return owner.is_active and owner.is_staff and owner.has_perm(endpoint.permission)


class OperatorView(APIView):
    endpoint: ClassVar[Endpoint]
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [StaffKeyThrottle]
    content_negotiation_class = AlwaysJson
    parser_classes = [JSONParser, FormParser]

    key: StaffApiKey | None = None
    object_id = ""
    replayed = False

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    # --- Who may call ----------------------------------------------------------------------

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.object_id = str(kwargs.get("pk", ""))
        self.key = self._authenticate(request)
        super().initial(request, *args, **kwargs)  # negotiation, then the per-key throttle
        if not self.key.user.is_active or not self.key.user.is_staff:
            raise ApiError(403, "owner_inactive", "The key's owner is no longer active staff")
        if lacks_required_two_factor(self.key.user):
            # The owner turned two-factor off, or had it reset: the key would act as someone
            # with one factor. It works again once they turn it back on.
            raise ApiError(
                403, "owner_two_factor_off", "The key's owner has two-factor authentication off"
            )
        if not address_allowed(self.key, throttle.client_address(request)):
            raise ApiError(403, "address_not_allowed", "This key is not allowed from this address")
        if not key_allows(self.key, self.endpoint):
            raise ApiError(
                403,
                "permission_denied",
                f"This key may not {self.endpoint.action} "
                f"(needs {self.endpoint.permission} and scope {self.endpoint.scope.value})",
            )
        if not all(
            is_storable(name) and all(is_storable(value) for value in values)
            for name, values in request.query_params.lists()
        ):
            raise ApiError(400, "invalid_request", "The query holds characters that cannot be used")

    def _authenticate(self, request: Request) -> StaffApiKey:
        supplied = request.headers.get(KEY_HEADER, "")
        if not supplied:
            raise ApiError(401, "missing_key", f"Send the staff API key in the {KEY_HEADER} header")
        key = staff_api_key_authenticate(key=supplied)
        if key is None:
            address = throttle.client_address(request)
            if wait := throttle.hit("opbadkey", address, settings.PANEL_API_BAD_KEY_RATE):
                raise exceptions.Throttled(wait=wait)
            raise ApiError(401, "invalid_key", "Invalid or revoked API key")
        return key

    def get_authenticate_header(self, request: Request) -> str:
        return KEY_HEADER

    # --- Answers -----------------------------------------------------------------------------

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, PanelError):
            exc = _panel_error(exc)
        if isinstance(exc, Http404):
            exc = not_found()
        if isinstance(exc, ApiError):
            response = Response(error_body(exc.code, exc.message), status=exc.status)
            if exc.status == 401:
                response["WWW-Authenticate"] = KEY_HEADER
            return response
        if isinstance(exc, exceptions.Throttled):
            response = Response(error_body("throttled", "Too many requests: slow down"), status=429)
            wait = getattr(exc, "wait", None)  # DRF's Throttled sets it; its stubs don't say
            if wait is not None:
                response["Retry-After"] = str(int(wait) + 1)
            return response
        if isinstance(exc, exceptions.APIException):
            code = exc.get_codes()
            code = code if isinstance(code, str) else "invalid_request"
            return Response(error_body(code, str(exc.detail)), status=exc.status_code)
        # A fault of ours: Django answers 500 and reports it; the log still shows the call.
        self._record(self.request, 500, "server_error")
        raise exc

    def finalize_response(
        self, request: Request, response: Response, *args: object, **kwargs: object
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        data = getattr(response, "data", None)
        error = data.get("error_code", "") if isinstance(data, dict) else ""
        self._record(request, response.status_code, str(error))
        return response

    def _record(self, request: Request, status_code: int, error_code: str) -> None:
        if self.key is None:
            return  # no valid key: throttled per address instead of logged
        api_call_record(
            key_id=self.key.pk,
            address=throttle.client_address(request),
            method=request.method or "",
            action=self.endpoint.action,
            object_id=self.object_id,
            status_code=status_code,
            error_code=error_code,
            replayed=self.replayed,
        )

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # Messages are the API's own, in English like /api/v2's: scripts match on error_code.
        with translation.override("en"):
            return super().dispatch(request, *args, **kwargs)

    # --- Reads and writes ------------------------------------------------------------------

    def body(self) -> dict[str, Any]:
        data = self.request.data
        if hasattr(data, "dict"):
            data = data.dict()
        if not isinstance(data, dict):
            raise ApiError(400, "invalid_request", "The body must be a JSON object")
        # NUL and lone surrogates would fail deep in a query: refused before anything is written.
        if not all(is_storable(str(k)) and is_storable(str(v)) for k, v in data.items()):
            raise ApiError(400, "invalid_request", "The body holds characters that cannot be used")
        return data

    def _write(self, act: Callable[[dict[str, Any]], tuple[int, Any]]) -> Response:
        """Run `act` once per (key, Idempotency-Key): a repeat gets the stored answer, the same
        Idempotency-Key with another request is refused (422), one still running is 409."""
        assert self.key is not None
        supplied = self.request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if not supplied or len(supplied) > 255 or not is_storable(supplied):
            raise ApiError(
                400,
                "idempotency_key_required",
                f"Every write needs an {IDEMPOTENCY_HEADER} header (1 to 255 characters)",
            )
        body = self.body()
        digest = hashlib.sha256(
            json.dumps(
                [self.request.method, self.request.path, body], sort_keys=True, default=str
            ).encode()
        ).hexdigest()
        claim = idempotency_claim(
            key_id=self.key.pk, idempotency_key=supplied, request_digest=digest
        )
        if claim.outcome is Claim.MISMATCH:
            raise ApiError(
                422,
                "idempotency_key_reused",
                f"This {IDEMPOTENCY_HEADER} was used with another request",
            )
        if claim.outcome is Claim.RUNNING:
            raise ApiError(
                409,
                "idempotency_key_in_use",
                f"A request with this {IDEMPOTENCY_HEADER} is still running: retry later",
            )
        if claim.outcome is Claim.REPLAY:
            self.replayed = True
            response = Response(claim.record.body, status=claim.record.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        record_id = claim.record.pk
        try:
            with transaction.atomic():
                status, data = act(body)
                answer = {"data": data}
                idempotency_finish(record_id=record_id, status_code=status, body=answer)
        except (ApiError, PanelError) as exc:
            # A refusal changed nothing (its transaction rolled back) and is an answer too.
            error = exc if isinstance(exc, ApiError) else _panel_error(exc)
            answer = error_body(error.code, error.message)
            idempotency_finish(record_id=record_id, status_code=error.status, body=answer)
            return Response(answer, status=error.status)
        except BaseException:
            idempotency_abandon(record_id=record_id)
            raise
        return Response(answer, status=status)
