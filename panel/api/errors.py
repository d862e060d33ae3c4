"""One error shape for the v2 endpoint: HTTP 200 with {"error": message}, 429 when throttled."""

import logging

from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from rest_framework import exceptions
from rest_framework.response import Response

from core.errors import PanelError

logger = logging.getLogger(__name__)

INCORRECT_REQUEST = "Incorrect request"
TOO_MANY_REQUESTS = "Too many requests"


class Throttled(exceptions.APIException):
    status_code = 429
    default_detail = TOO_MANY_REQUESTS

    def __init__(self, wait: int | None = None) -> None:
        super().__init__()
        self.wait = wait


def error_response(message: str, status: int = 200, *, rollback: bool = True) -> Response:
    """Bad input changes nothing: with `rollback`, whatever the request wrote before failing is
    rolled back with the request's transaction (ATOMIC_REQUESTS). A view outside the request's
    transaction passes False: its writes' own transactions ended with their exceptions (and
    with none open, there is no flag to set)."""
    if rollback and transaction.get_connection().in_atomic_block:
        transaction.set_rollback(True)
    return Response({"error": message}, status=status)


def exception_handler(exc: Exception, context: dict) -> Response:
    # `/api/v2` runs outside the request's transaction (panel.api.views.ApiV2View).
    rollback = not getattr(context.get("view"), "outside_request_transaction", False)
    if isinstance(exc, PanelError):
        return error_response(exc.message, rollback=rollback)
    if isinstance(exc, Throttled):
        response = error_response(TOO_MANY_REQUESTS, status=429, rollback=rollback)
        if exc.wait:
            response["Retry-After"] = str(int(exc.wait))
        return response
    if isinstance(exc, SuspiciousOperation):
        # Too many fields, a body over the size limit, a malformed multipart: the client's doing.
        return error_response(INCORRECT_REQUEST, rollback=rollback)
    if isinstance(exc, exceptions.APIException):
        # Parse errors, unsupported media types, bad methods: the client sent something off.
        return error_response(INCORRECT_REQUEST, rollback=rollback)
    logger.exception("v2 API fault", exc_info=exc)
    return error_response("Internal server error", status=500, rollback=rollback)
