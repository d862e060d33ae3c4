"""Orders: list, detail, and the actions the lifecycle allows, each through the service the
admin and the customer use (orders.services): refill_request, order_cancel, review_resolve."""

from decimal import Decimal
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from core.ids import parse_id
from core.money import parse_money
from operatorapi.api import paging
from operatorapi.api.base import ApiError, Endpoint, OperatorView, not_found
from operatorapi.api.shapes import order_detail, order_row
from operatorapi.models import Scope
from orders.lifecycle import Kind, Resolution
from orders.models import DispatchState, Order, OrderStatus, ReviewReason, Source
from orders.services import Answer, order_cancel, refill_request, review_resolve

READ = "orders.view_order"
RESOLVE = "orders.change_order"  # what the admin's resolve page needs (orders.admin_review)


def _order(pk: int) -> Order:
    order = Order.objects.select_related("user", "service", "provider").filter(pk=pk).first()
    if order is None:
        raise not_found("order")
    return order


def _done(pk: int, **extra: Any) -> tuple[int, dict[str, Any]]:
    return 200, {**order_detail(_order(pk)), **extra}


class OrderList(OperatorView):
    endpoint = Endpoint("orders.list", Scope.ORDERS_READ, READ)

    def get(self, request: Request) -> Response:
        rows = Order.objects.select_related("user", "service", "provider")
        rows = paging.created_between(request, rows)
        if (statuses := paging.choices(request, "status", list(OrderStatus.values))) is not None:
            rows = rows.filter(status__in=statuses)
        states = paging.choices(request, "dispatch_state", list(DispatchState.values))
        if states is not None:
            rows = rows.filter(dispatch_state__in=states)
        reasons = paging.choices(request, "review_reason", list(ReviewReason.values))
        if reasons is not None:
            rows = rows.filter(review_reason__in=reasons)
        for name, column in (
            ("ids", "pk"),
            ("service", "service_id"),
            ("user", "user_id"),
            ("provider", "provider_id"),
        ):
            if (wanted := paging.ids(request, name)) is not None:
                rows = rows.filter(**{f"{column}__in": wanted})
        if username := request.query_params.get("username", "").strip():
            rows = rows.filter(user__username__iexact=username)
        if upstream := request.query_params.get("upstream_id", "").strip():
            rows = rows.filter(upstream_id=upstream)
        if link := request.query_params.get("link", "").strip():
            rows = rows.filter(link=link)
        return Response(paging.page(request, rows, order_row))


class OrderDetail(OperatorView):
    endpoint = Endpoint("orders.get", Scope.ORDERS_READ, READ)

    def get(self, request: Request, pk: int) -> Response:
        return Response({"data": order_detail(_order(pk))})


class OrderRefill(OperatorView):
    endpoint = Endpoint("orders.refill", Scope.ORDERS_WRITE, "orders.add_refill", write=True)

    def post(self, request: Request, pk: int) -> Response:
        def act(body: dict[str, Any]) -> tuple[int, Any]:
            order = _order(pk)
            refill = refill_request(
                user=order.user,
                order_id=pk,
                source=Source.ADMIN,
                staff=self.key.user,  # type: ignore[union-attr]
            )
            return _done(pk, refill=refill.pk)

        return self._write(act)


class OrderCancel(OperatorView):
    endpoint = Endpoint("orders.cancel", Scope.ORDERS_WRITE, "orders.add_cancelrequest", write=True)

    def post(self, request: Request, pk: int) -> Response:
        def act(body: dict[str, Any]) -> tuple[int, Any]:
            order = _order(pk)
            order_cancel(
                user=order.user,
                order_id=pk,
                source=Source.ADMIN,
                staff=self.key.user,  # type: ignore[union-attr]
            )
            return _done(pk)

        return self._write(act)


def _confirmed(body: dict[str, Any]) -> bool:
    return str(body.get("confirmed_absent", "")).strip().lower() in ("1", "true")


def _answer(body: dict[str, Any]) -> Answer:
    delivered = body.get("delivered")
    charge = body.get("upstream_charge")
    parsed_delivered: int | None = None
    parsed_charge: Decimal | None = None
    if delivered not in (None, ""):
        parsed_delivered = parse_id(delivered) if str(delivered).strip() != "0" else 0
        if parsed_delivered is None:
            raise ApiError(400, "invalid_parameter", "delivered: a whole number")
    if charge not in (None, ""):
        try:
            parsed_charge = parse_money(charge)
        except ValueError:
            raise ApiError(400, "invalid_parameter", "upstream_charge: an amount") from None
    return Answer(
        upstream_id=str(body.get("upstream_id") or ""),
        delivered=parsed_delivered,
        upstream_charge=parsed_charge,
        confirmed_absent=_confirmed(body),
    )


class OrderResolve(OperatorView):
    endpoint = Endpoint("orders.resolve", Scope.ORDERS_WRITE, RESOLVE, write=True)

    def post(self, request: Request, pk: int) -> Response:
        def act(body: dict[str, Any]) -> tuple[int, Any]:
            _order(pk)
            resolution = str(body.get("resolution", "")).strip()
            if resolution not in Resolution.values:
                raise ApiError(
                    400,
                    "invalid_parameter",
                    "resolution: one of " + ", ".join(Resolution.values),
                )
            review_resolve(
                kind=Kind.ORDER,
                pk=pk,
                resolution=resolution,
                admin=self.key.user,  # type: ignore[union-attr]
                answer=_answer(body),
            )
            return _done(pk)

        return self._write(act)


class OrderResend(OperatorView):
    """Send an order in review again: only where its review reason allows it, and only once a
    person confirms it is not at the provider (the lifecycle's SEND_AGAIN)."""

    endpoint = Endpoint("orders.resend", Scope.ORDERS_WRITE, RESOLVE, write=True)

    def post(self, request: Request, pk: int) -> Response:
        def act(body: dict[str, Any]) -> tuple[int, Any]:
            _order(pk)
            review_resolve(
                kind=Kind.ORDER,
                pk=pk,
                resolution=Resolution.SEND_AGAIN,
                admin=self.key.user,  # type: ignore[union-attr]
                answer=Answer(confirmed_absent=_confirmed(body)),
            )
            return _done(pk)

        return self._write(act)
