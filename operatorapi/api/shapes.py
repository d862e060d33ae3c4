"""What each row looks like in an answer. Money is a decimal string (as /api/v2 writes it),
times are ISO 8601 in UTC, ids are numbers."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from accounts.models import User
from core.money import money_str
from orders.lifecycle import Kind, resolutions_for
from orders.models import DispatchState, Order, OrderEvent
from orders.services import can_cancel, can_refill
from payments.models import Deposit
from providers.models import Service
from support.models import Ticket, TicketMessage


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _money(value: Decimal | None) -> str | None:
    return money_str(value) if value is not None else None


def order_row(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "user": {"id": order.user_id, "username": order.user.username},
        "service": {"id": order.service_id, "name": order.service.display_name},
        "provider": {"id": order.provider_id, "name": order.provider.name},
        "upstream_id": order.upstream_id,
        "upstream_service_id": order.upstream_service_id,
        "link": order.link,
        "quantity": order.total_quantity,
        "runs": order.runs,
        "interval": order.interval,
        "status": order.status,
        "start_count": order.start_count,
        "remains": order.remains,
        "charge": money_str(order.charge),
        "refunded": money_str(order.refunded),
        "cost": _money(order.cost),
        "currency": order.user.currency,
        "dispatch_state": order.dispatch_state,
        "review_reason": order.review_reason or None,
        "source": order.source,
        "created_at": _time(order.created_at),
        "updated_at": _time(order.updated_at),
        "finished_at": _time(order.finished_at),
    }


def _event(event: OrderEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "created_at": _time(event.created_at),
        "field": event.field,
        "old": event.old_value,
        "new": event.new_value,
        # The note in English, like every message of this API; the code and its parameters
        # for scripts (a person's own words have no code).
        "message": event.message_text,
        "message_code": event.message_code or None,
        "message_params": event.message_params,
        "actor": event.actor,
        "actor_user": event.actor_user.username if event.actor_user else None,
    }


def order_detail(order: Order) -> dict[str, Any]:
    """The row, what may be done to it now, its refills and cancel requests, and its events."""
    in_review = order.dispatch_state == DispatchState.NEEDS_REVIEW
    resolutions = resolutions_for(Kind.ORDER, order.review_reason) if in_review else frozenset()
    return {
        **order_row(order),
        "dispatch_error": order.dispatch_error,
        "details": order.details,
        "allowed": {
            "refill": can_refill(order=order),
            "cancel": can_cancel(order=order),
            "resolve": sorted(resolutions),
        },
        "refills": [
            {
                "id": refill.pk,
                "status": refill.status,
                "dispatch_state": refill.dispatch_state,
                "upstream_id": refill.upstream_id,
                "created_at": _time(refill.created_at),
            }
            for refill in order.refills.order_by("pk")
        ],
        "cancel_requests": [
            {
                "id": request.pk,
                "outcome": request.outcome,
                "dispatch_state": request.dispatch_state,
                "created_at": _time(request.created_at),
            }
            for request in order.cancel_requests.order_by("pk")
        ],
        "events": [
            _event(event) for event in order.events.select_related("actor_user").order_by("pk")
        ],
    }


def user_row(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "balance": money_str(user.balance),
        "currency": user.currency,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "discount_percent": _money(user.discount_percent),
        "language": user.language or None,
        "created_at": _time(user.date_joined),
        "last_login": _time(user.last_login),
    }


def deposit_row(deposit: Deposit) -> dict[str, Any]:
    return {
        "id": deposit.pk,
        "user": (
            {"id": deposit.user_id, "username": deposit.user.username} if deposit.user else None
        ),
        "gateway": deposit.gateway,
        "status": deposit.status,
        "amount": money_str(deposit.amount),
        "currency": deposit.currency,
        "received_amount": _money(deposit.received_amount),
        "received_currency": deposit.received_currency or None,
        "credited_amount": money_str(deposit.credited_amount),
        "bonus_amount": money_str(deposit.bonus_amount),
        "memo": deposit.memo,
        "reason": deposit.reason_text,
        "external_id": deposit.external_id,
        "bank_reference": deposit.bank_reference,
        "created_at": _time(deposit.created_at),
        "credited_at": _time(deposit.credited_at),
    }


def ticket_row(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "user": {"id": ticket.user_id, "username": ticket.user.username},
        "subject": ticket.subject,
        "kind": ticket.kind,
        "request": ticket.request or None,
        "status": ticket.status,
        "orders": sorted(order.pk for order in ticket.orders.all()),
        "payment_reference": ticket.payment_reference,
        "created_at": _time(ticket.created_at),
        "updated_at": _time(ticket.updated_at),
    }


def _message(message: TicketMessage) -> dict[str, Any]:
    return {
        "id": message.pk,
        "author": message.author.username if message.author else None,
        "is_staff": message.is_staff,
        "is_system": message.is_system,
        "body": message.body,
        "created_at": _time(message.created_at),
    }


def ticket_detail(ticket: Ticket) -> dict[str, Any]:
    return {
        **ticket_row(ticket),
        "messages": [_message(m) for m in ticket.messages.select_related("author")],
    }


def service_row(service: Service) -> dict[str, Any]:
    return {
        "id": service.pk,
        "name": service.display_name,
        "category": service.category.name if service.category_id else None,
        "type": service.type,
        "rate": money_str(service.rate),
        "min": service.min,
        "max": service.max,
        "refill": service.has_refill,
        "cancel": service.has_cancel,
        "dripfeed": service.has_dripfeed,
        "provider": {"id": service.provider_id, "name": service.provider.name},
        "upstream_id": service.upstream_id,
        "upstream_rate": money_str(service.upstream_rate),
        "enabled": service.is_enabled,
        "available": service.is_available,
        "hold_reason": service.hold_reason or None,
    }
