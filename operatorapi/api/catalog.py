"""Services: list, and on/off sale through providers' catalog_set_on_sale (the admin's)."""

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from operatorapi.api import paging
from operatorapi.api.base import Endpoint, OperatorView, not_found
from operatorapi.api.shapes import service_row
from operatorapi.models import Scope
from providers.models import Service
from providers.services import catalog_set_on_sale

CHANGE = "providers.change_service"


class ServiceList(OperatorView):
    endpoint = Endpoint("services.list", Scope.SERVICES_READ, "providers.view_service")

    def get(self, request: Request) -> Response:
        rows = Service.objects.select_related("provider", "category")
        for name, column in (
            ("ids", "pk"),
            ("provider", "provider_id"),
            ("category", "category_id"),
        ):
            if (wanted := paging.ids(request, name)) is not None:
                rows = rows.filter(**{f"{column}__in": wanted})
        if (enabled := paging.flag(request, "enabled")) is not None:
            rows = rows.filter(is_enabled=enabled)
        return Response(paging.page(request, rows, service_row))


class _Switch(OperatorView):
    on_sale: bool

    def post(self, request: Request, pk: int) -> Response:
        def act(body: dict[str, Any]) -> tuple[int, Any]:
            items = Service.objects.filter(pk=pk)
            if not items.exists():
                raise not_found("service")
            catalog_set_on_sale(items=items, on_sale=self.on_sale)
            return 200, service_row(
                Service.objects.select_related("provider", "category").get(pk=pk)
            )

        return self._write(act)


class ServiceEnable(_Switch):
    endpoint = Endpoint("services.enable", Scope.SERVICES_WRITE, CHANGE, write=True)
    on_sale = True


class ServiceDisable(_Switch):
    endpoint = Endpoint("services.disable", Scope.SERVICES_WRITE, CHANGE, write=True)
    on_sale = False
