"""Refuse page requests carrying text the database cannot store, before any view queries it.

A NUL in `?q=` or a form field used to reach PostgreSQL and answer 500 with a traceback; one
check here covers every page, admin and form at once. /api/v2 answers in its own protocol
(`Incorrect request`, see panel.api.views) and is left to it.

Reading `request.POST` here parses the body before the view runs: a urlencoded body stays
readable as `request.body`, a multipart one does not. A future view that must verify a raw
multipart body (no webhook does today: they post JSON) belongs beside /api/v2 in EXEMPT.
"""

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, QueryDict

from core.text import is_storable
from panel.error_pages import bad_request

EXEMPT = ("/api/v2",)


def _clean(data: QueryDict) -> bool:
    return all(
        is_storable(key) and all(is_storable(value) for value in values)
        for key, values in data.lists()
    )


class StorableInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(EXEMPT):
            return self.get_response(request)
        # The session and CSRF cookies are looked up in the database: a bad one is ignored.
        for name in [name for name, value in request.COOKIES.items() if not is_storable(value)]:
            del request.COOKIES[name]
        if not _clean(request.GET) or (request.method == "POST" and not _clean(request.POST)):
            return bad_request(request, BadRequest("unstorable characters in the request"))
        return self.get_response(request)
