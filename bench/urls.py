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


urlpatterns = [path("bench/minimal", MinimalView.as_view()), *panel_urlpatterns]

handler400 = "panel.error_pages.bad_request"
handler403 = "panel.error_pages.permission_denied"
handler404 = "panel.error_pages.page_not_found"
handler500 = "panel.error_pages.server_error"
