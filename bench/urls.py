from django.db import connection
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from panel.urls import urlpatterns as panel_urlpatterns


class MinimalView(APIView):
    """The least a DRF endpoint can do: the ceiling the real endpoints are compared with."""

    authentication_classes: list = []
    permission_classes: list = []

    def post(self, request: Request) -> Response:
        return Response({"ok": 1})

    get = post


INSERT_TABLE = "bench_insert"


class InsertOneView(APIView):
    """The fair baseline for `add`: a DRF endpoint that inserts one row and commits (the
    request's transaction, as every panel request has), on the same gunicorn and PostgreSQL."""

    authentication_classes: list = []
    permission_classes: list = []

    def post(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {INSERT_TABLE} (link, created_at) VALUES (%s, now()) RETURNING id",  # noqa: S608 - a constant
                [str(request.data.get("link", ""))[:200]],
            )
            (row_id,) = cursor.fetchone()
        return Response({"order": row_id})


urlpatterns = [
    path("bench/minimal", MinimalView.as_view()),
    path("bench/insert", InsertOneView.as_view()),
    *panel_urlpatterns,
]

handler400 = "panel.error_pages.bad_request"
handler403 = "panel.error_pages.permission_denied"
handler404 = "panel.error_pages.page_not_found"
handler500 = "panel.error_pages.server_error"
