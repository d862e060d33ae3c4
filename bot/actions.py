"""Everything the bot writes: refills, cancels, orders and tickets, through the same services
and with the same messages as the web. Each write button carries a one-time token claimed in
the write's transaction (accounts.form_tokens), so a double tap acts once. The conversations
(a new order, a ticket) keep their state in the cache under the chat, for a while."""

from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext, pgettext

from accounts import form_tokens
from accounts.models import FormSubmission, User
from bot import screens
from bot.screens import Chat, button, menu_row
from core.errors import PanelError, error_display
from orders import services as orders
from orders.models import OrderStatus, Source
from orders.pricing import order_charge
from orders.type_rules import parse_order_fields
from orders.views.common import charged_text, order_error_text
from providers.models import PACKAGE_TYPES, Service
from providers.pricing import customer_pricing
from support.models import TicketKind
from support.services import TicketFieldError, ticket_open

CONVERSATION_SECONDS = 30 * 60
MAX_TICKET = 4000


def _state_key(chat_id: int) -> str:
    return f"bot:conversation:{chat_id}"


def state_of(chat_id: int) -> dict[str, Any]:
    return cache.get(_state_key(chat_id)) or {}


def state_set(chat_id: int, **state: Any) -> None:
    cache.set(_state_key(chat_id), state, CONVERSATION_SECONDS)


def state_clear(chat_id: int) -> None:
    cache.delete(_state_key(chat_id))


def _already_done(chat: Chat) -> None:
    chat.say(gettext("Already done: nothing was placed or charged twice."), [menu_row()])


def _claimed(user: User, token: str, result_url: str, write: Any) -> Any:
    """Run `write` under the one-time token, in one transaction with its claim."""
    with transaction.atomic():
        form_tokens.form_submission_claim(user=user, token=token)
        result = write()
        form_tokens.form_submission_record(user=user, token=token, result_url=result_url)
    return result


# --- Refill and cancel -------------------------------------------------------------------------


def refill(chat: Chat, user: User, order_id: str, token: str) -> None:
    url = reverse("order_detail", args=[order_id]) if order_id.isdigit() else ""
    try:
        made = _claimed(
            user,
            token,
            url,
            lambda: orders.refill_request(user=user, order_id=order_id, source=Source.TELEGRAM),
        )
    except form_tokens.AlreadySubmitted:
        _already_done(chat)
    except PanelError as exc:
        chat.say(order_error_text(int(order_id) if order_id.isdigit() else 0, exc), [menu_row()])
    else:
        chat.say(
            gettext("Refill #%(refill)s requested for order #%(order)s.")
            % {"refill": made.pk, "order": order_id},
            [[button("‹ " + gettext("Order"), f"s:{order_id}")], menu_row()],
        )


def cancel(chat: Chat, user: User, order_id: str, token: str) -> None:
    url = reverse("order_detail", args=[order_id]) if order_id.isdigit() else ""
    try:
        order = _claimed(
            user,
            token,
            url,
            lambda: orders.order_cancel(user=user, order_id=order_id, source=Source.TELEGRAM),
        )
    except form_tokens.AlreadySubmitted:
        _already_done(chat)
        return
    except PanelError as exc:
        chat.say(order_error_text(int(order_id) if order_id.isdigit() else 0, exc), [menu_row()])
        return
    if order.status == OrderStatus.CANCELED:
        text = gettext("Order #%(id)s canceled: %(amount)s refunded.") % {
            "id": order.pk,
            "amount": charged_text(order.refunded),
        }
    else:
        text = gettext(
            "Cancel of order #%(id)s requested: the refund follows when the provider confirms it."
        ) % {"id": order.pk}
    chat.say(text, [[button("‹ " + gettext("Order"), f"s:{order.pk}")], menu_row()])


# --- A new order by conversation -------------------------------------------------------------


def order_start(chat: Chat, user: User, service_id: str) -> None:
    found = screens.service_intro(user, int(service_id)) if service_id.isdigit() else None
    if found is None:
        chat.say(gettext("This service is not on sale."), [menu_row()])
        return
    row, intro = found
    state_set(chat.chat_id, step="link", service=row["id"])
    ask = gettext("Send the link.")
    chat.say(f"{intro}\n\n{ask}", [_stop_row()])


def _stop_row() -> list[dict[str, str]]:
    return [button("✖ " + pgettext("verb", "Cancel"), "m")]


def order_text(chat: Chat, user: User, state: dict[str, Any], text: str) -> None:
    """A message while an order is being put together: the link, then the quantity."""
    service = Service.objects.on_sale().filter(pk=int(state.get("service") or 0)).first()
    if service is None:
        state_clear(chat.chat_id)
        chat.say(gettext("This service is not on sale."), [menu_row()])
        return
    is_package = service.type in PACKAGE_TYPES
    if state["step"] == "link":
        state["link"] = text.strip()[:2000]
        if not is_package:
            state_set(chat.chat_id, **{**state, "step": "quantity"})
            chat.say(
                gettext("Send the quantity (min %(min)s, max %(max)s).")
                % {"min": service.min, "max": service.max},
                [_stop_row()],
            )
            return
    else:
        state["quantity"] = text.strip()[:20]
    fields = {"link": state["link"], "quantity": state.get("quantity", "1")}
    try:
        request = parse_order_fields(service, fields)
    except PanelError as exc:
        chat.say(error_display(exc), [_stop_row()])  # ask the same question again
        return
    rate = customer_pricing(user=user, service_ids=[service.pk]).service_rate(
        service_id=service.pk, rate=service.rate
    )
    charge = order_charge(rate=rate, units=request.total_quantity, is_package=request.is_package)
    token = form_tokens.form_token_new()
    state_set(chat.chat_id, **{**state, "step": "confirm", "token": token})
    user.refresh_from_db(fields=["balance"])
    lines = [
        gettext("Check your order:"),
        f"{gettext('Service')}: #{service.pk} {service.display_name}",
        f"{gettext('Link')}: {request.link}",
        f"{gettext('Quantity')}: {request.quantity}",
        gettext("Estimated charge: %(amount)s") % {"amount": charged_text(charge)},
        gettext("Your balance: %(amount)s") % {"amount": charged_text(user.balance)},
    ]
    chat.say(
        "\n".join(lines),
        [[button("✅ " + gettext("Place order"), f"p:{token}")], _stop_row()],
    )


def order_place(chat: Chat, user: User, token: str) -> None:
    state = state_of(chat.chat_id)
    if state.get("step") != "confirm" or state.get("token") != token:
        if FormSubmission.objects.filter(user=user, token=token).exists():
            _already_done(chat)  # a second tap on a placed order's button
            return
        chat.say(gettext("This conversation has expired: start again."), [menu_row()])
        return
    fields = {"link": state["link"], "quantity": state.get("quantity", "1")}
    try:
        with transaction.atomic():
            form_tokens.form_submission_claim(user=user, token=token)
            order = orders.order_place(
                user=user, service_id=state["service"], fields=fields, source=Source.TELEGRAM
            )
            form_tokens.form_submission_record(
                user=user, token=token, result_url=reverse("order_detail", args=[order.pk])
            )
    except form_tokens.AlreadySubmitted:
        _already_done(chat)
        return
    except PanelError as exc:
        chat.say(error_display(exc), [menu_row()])
        return
    state_clear(chat.chat_id)
    chat.say(
        gettext("Order #%(id)s placed: charged %(amount)s")
        % {"id": order.pk, "amount": charged_text(order.charge)},
        [[button("📋 " + gettext("Order status"), f"s:{order.pk}")], menu_row()],
    )


# --- A ticket --------------------------------------------------------------------------------


def ticket_start(chat: Chat) -> None:
    state_set(chat.chat_id, step="ticket")
    chat.say(gettext("Write your message to support in one message."), [_stop_row()])


def ticket_text(chat: Chat, state: dict[str, Any], text: str) -> None:
    if not text.strip():  # a sticker or a photo: ask for words
        ticket_start(chat)
        return
    token = form_tokens.form_token_new()
    state_set(chat.chat_id, step="ticket_confirm", message=text[:MAX_TICKET], token=token)
    chat.say(
        gettext("Send this to support?") + "\n\n" + text[:MAX_TICKET],
        [[button("✅ " + gettext("Send the ticket"), f"k:{token}")], _stop_row()],
    )


def ticket_send(chat: Chat, user: User, token: str) -> None:
    state = state_of(chat.chat_id)
    if state.get("step") != "ticket_confirm" or state.get("token") != token:
        chat.say(gettext("This conversation has expired: start again."), [menu_row()])
        return
    message = state["message"]
    subject = " ".join(message.split())[:60]
    try:
        with transaction.atomic():
            form_tokens.form_submission_claim(user=user, token=token)
            ticket = ticket_open(user=user, kind=TicketKind.OTHER, subject=subject, message=message)
            form_tokens.form_submission_record(
                user=user, token=token, result_url=reverse("ticket_detail", args=[ticket.pk])
            )
    except form_tokens.AlreadySubmitted:
        _already_done(chat)
        return
    except TicketFieldError as exc:
        chat.say(str(exc.message), [menu_row()])
        return
    except PanelError as exc:
        chat.say(error_display(exc), [menu_row()])
        return
    state_clear(chat.chat_id)
    chat.say(
        gettext("Ticket #%(id)s sent. We answer on the website and, if you chose it, here.")
        % {"id": ticket.pk},
        [menu_row()],
    )
