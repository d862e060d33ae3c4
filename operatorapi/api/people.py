"""Users (balance adjustments), deposits (the unmatched queue) and tickets, each through the
service its admin page calls: balance_adjust, deposit_assign / deposit_reject_everywhere,
ticket_answer / ticket_close."""

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from accounts.forms import BalanceAdjustmentForm
from accounts.models import BalanceTransaction, User
from accounts.services import balance_adjust
from core.ids import parse_id
from core.money import money_str, parse_money
from operatorapi.api import paging
from operatorapi.api.base import ApiError, Endpoint, OperatorView, not_found
from operatorapi.api.shapes import deposit_row, ticket_detail, ticket_row, user_row
from operatorapi.models import Scope
from payments.gateways.closing import deposit_reject_everywhere
from payments.models import Deposit, Gateway
from payments.services import deposit_assign
from support.models import Ticket, TicketStatus
from support.services import ticket_answer, ticket_close

DECIDE = "payments.change_unmatcheddeposit"  # what the admin's unmatched queue needs
QUEUE = (Deposit.Status.UNMATCHED, Deposit.Status.REVIEW, Deposit.Status.PAID_LATE)


def _user(pk: int) -> User:
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise not_found("user")
    return user


class UserList(OperatorView):
    endpoint = Endpoint("users.list", Scope.USERS_READ, "accounts.view_user")

    def get(self, request: Request) -> Response:
        rows = paging.created_between(request, User.objects.all(), "date_joined")
        if (wanted := paging.ids(request, "ids")) is not None:
            rows = rows.filter(pk__in=wanted)
        if username := request.query_params.get("username", "").strip():
            rows = rows.filter(username__iexact=username)
        if email := request.query_params.get("email", "").strip():
            rows = rows.filter(email__iexact=email)
        if (active := paging.flag(request, "is_active")) is not None:
            rows = rows.filter(is_active=active)
        return Response(paging.page(request, rows, user_row))


class UserDetail(OperatorView):
    endpoint = Endpoint("users.get", Scope.USERS_READ, "accounts.view_user")

    def get(self, request: Request, pk: int) -> Response:
        return Response({"data": user_row(_user(pk))})


class UserBalance(OperatorView):
    """Add to or take from a balance with a reason: a ledger line in the staff user's name."""

    endpoint = Endpoint(
        "users.balance", Scope.USERS_WRITE, "accounts.add_balancetransaction", write=True
    )

    def post(self, request: Request, pk: int) -> Response:
        def act(body: dict[str, Any]) -> tuple[int, Any]:
            user = _user(pk)
            form = BalanceAdjustmentForm(
                {
                    "amount": body.get("amount", ""),
                    "kind": BalanceTransaction.Kind.ADJUSTMENT,
                    "memo": body.get("reason", ""),
                }
            )
            if not form.is_valid():
                field, errors = next(iter(form.errors.items()))
                name = {"memo": "reason"}.get(field, field)
                raise ApiError(400, "invalid_parameter", f"{name}: {errors[0]}")
            line = balance_adjust(
                user_id=user.pk,
                amount=form.cleaned_data["amount"],
                memo=form.cleaned_data["memo"],
                created_by=self.key.user,  # type: ignore[union-attr]
            )
            return 200, {
                **user_row(_user(pk)),
                "transaction": {
                    "id": line.pk,
                    "amount": money_str(line.amount),
                    "balance_after": money_str(line.balance_after),
                },
            }

        return self._write(act)


# --- Deposits ----------------------------------------------------------------------------------


def _deposit(pk: int) -> Deposit:
    deposit = Deposit.objects.select_related("user").filter(pk=pk).first()
    if deposit is None:
        raise not_found("deposit")
    return deposit


class DepositList(OperatorView):
    endpoint = Endpoint("deposits.list", Scope.DEPOSITS_READ, "payments.view_deposit")

    def get(self, request: Request) -> Response:
        rows = paging.created_between(request, Deposit.objects.select_related("user"))
        statuses = paging.choices(request, "status", list(Deposit.Status.values))
        if statuses is not None:
            rows = rows.filter(status__in=statuses)
        if paging.flag(request, "queue"):
            rows = rows.filter(status__in=QUEUE)
        if (gateways := paging.choices(request, "gateway", list(Gateway.values))) is not None:
            rows = rows.filter(gateway__in=gateways)
        for name, column in (("ids", "pk"), ("user", "user_id")):
            if (wanted := paging.ids(request, name)) is not None:
                rows = rows.filter(**{f"{column}__in": wanted})
        return Response(paging.page(request, rows, deposit_row))


class DepositAssign(OperatorView):
    endpoint = Endpoint("deposits.assign", Scope.DEPOSITS_WRITE, DECIDE, write=True)

    def post(self, request: Request, pk: int) -> Response:
        def act(body: dict[str, Any]) -> tuple[int, Any]:
            _deposit(pk)
            user_id = parse_id(body.get("user_id"))
            if user_id is None and (username := str(body.get("username", "")).strip()):
                user_id = (
                    User.objects.filter(username__iexact=username)
                    .values_list("pk", flat=True)
                    .first()
                )
            if user_id is None:
                raise ApiError(400, "invalid_parameter", "user_id or username: an existing user")
            amount = body.get("credited_amount")
            credited = None
            if amount not in (None, ""):
                try:
                    credited = parse_money(amount)
                except ValueError:
                    raise ApiError(400, "invalid_parameter", "credited_amount: an amount") from None
            deposit_assign(
                deposit_id=pk,
                user_id=user_id,
                admin=self.key.user,  # type: ignore[union-attr]
                credited_amount=credited,
                reason=str(body.get("reason", "")),
            )
            return 200, deposit_row(_deposit(pk))

        return self._write(act)


class DepositReject(OperatorView):
    endpoint = Endpoint("deposits.reject", Scope.DEPOSITS_WRITE, DECIDE, write=True)

    def post(self, request: Request, pk: int) -> Response:
        def act(body: dict[str, Any]) -> tuple[int, Any]:
            _deposit(pk)
            deposit_reject_everywhere(
                deposit_id=pk,
                admin=self.key.user,  # type: ignore[union-attr]
                reason=str(body.get("reason", ""))[:200],
            )
            return 200, deposit_row(_deposit(pk))

        return self._write(act)


# --- Tickets -----------------------------------------------------------------------------------


def _ticket(pk: int) -> Ticket:
    ticket = Ticket.objects.select_related("user").prefetch_related("orders").filter(pk=pk).first()
    if ticket is None:
        raise not_found("ticket")
    return ticket


class TicketList(OperatorView):
    endpoint = Endpoint("tickets.list", Scope.TICKETS_READ, "support.view_ticket")

    def get(self, request: Request) -> Response:
        rows = Ticket.objects.select_related("user").prefetch_related("orders")
        rows = paging.created_between(request, rows)
        if (statuses := paging.choices(request, "status", list(TicketStatus.values))) is not None:
            rows = rows.filter(status__in=statuses)
        for name, column in (("ids", "pk"), ("user", "user_id"), ("order", "orders")):
            if (wanted := paging.ids(request, name)) is not None:
                rows = rows.filter(**{f"{column}__in": wanted}).distinct()
        return Response(paging.page(request, rows, ticket_row))


class TicketDetail(OperatorView):
    endpoint = Endpoint("tickets.get", Scope.TICKETS_READ, "support.view_ticket")

    def get(self, request: Request, pk: int) -> Response:
        return Response({"data": ticket_detail(_ticket(pk))})


class TicketReply(OperatorView):
    endpoint = Endpoint("tickets.reply", Scope.TICKETS_WRITE, "support.reply_ticket", write=True)

    def post(self, request: Request, pk: int) -> Response:
        def act(body: dict[str, Any]) -> tuple[int, Any]:
            _ticket(pk)
            ticket_answer(
                ticket_id=pk,
                admin=self.key.user,  # type: ignore[union-attr]
                body=str(body.get("message", "")),
            )
            return 200, ticket_detail(_ticket(pk))

        return self._write(act)


class TicketClose(OperatorView):
    endpoint = Endpoint("tickets.close", Scope.TICKETS_WRITE, "support.reply_ticket", write=True)

    def post(self, request: Request, pk: int) -> Response:
        def act(body: dict[str, Any]) -> tuple[int, Any]:
            _ticket(pk)
            if not ticket_close(ticket_id=pk):
                raise ApiError(409, "invalid_transition", "The ticket is already closed")
            return 200, ticket_detail(_ticket(pk))

        return self._write(act)
