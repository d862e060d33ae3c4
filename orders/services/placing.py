"""Placing orders and product orders: one service each, for the web forms, the v2 API and admin."""

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from accounts.models import BalanceTransaction, User
from accounts.services import balance_debit_move, debit_refused
from core.db.inserts import Inserted, insert_with_event, insert_with_event_and_move
from core.db.ledger import RowMove
from core.db.session import is_in_transaction
from core.errors import error_display
from core.ids import parse_id, parse_whole
from core.memos import MemoKind
from core.money import ZERO
from core.text import is_storable
from orders import pricing
from orders.errors import (
    BelowMargin,
    IncorrectProduct,
    IncorrectService,
    InvalidOrderField,
    LinkBusy,
    OutOfStock,
    PanelError,
)
from orders.lifecycle.events import Actor, event_for, event_link
from orders.links import link_key
from orders.memos import ORDER_CHARGE, PLACED, PRODUCT_ORDER_CHARGE
from orders.models import (
    ONE_OPEN_ORDER_PER_LINK,
    Order,
    OrderEvent,
    OrderStatus,
    ProductOrder,
    Source,
)
from orders.selectors import archived_order_by_client_ref
from orders.services.routing import route_for
from orders.type_rules import check_limits, parse_order_fields
from providers.markup import clears_margin
from providers.models import Product, Service
from providers.pricing import customer_pricing, customer_pricing_of
from providers.selectors import ServiceRead, service_for_order

MAX_CLIENT_REF_LENGTH = 64
MASS_LINE_FORMAT = gettext_noop("Write service ID | link | quantity")
_Row = TypeVar("_Row", Order, ProductOrder)
_Item = TypeVar("_Item", Service, Product)
_ACTOR_BY_SOURCE: dict[str, str] = {
    Source.WEB: Actor.CUSTOMER,
    Source.MASS: Actor.CUSTOMER,
    Source.API: Actor.API,
    Source.ADMIN: Actor.ADMIN,
    Source.TELEGRAM: Actor.CUSTOMER,
}


def _on_sale(model: type[_Item], pk: object, error: type[PanelError]) -> _Item:
    item_id = parse_id(pk)
    if item_id is None:
        raise error()
    try:
        # get(), not first(): first() adds an ORDER BY on the key, which costs more to build
        # than the query it orders (docs/performance.md).
        return model.objects.on_sale().select_related("provider").get(pk=item_id)
    except model.DoesNotExist:
        raise error() from None


def _check_margin(*, charge: Decimal, cost: Decimal) -> None:
    """The margin guard at the till: a charge below the cost plus the minimum margin is refused,
    whatever price the catalog showed (a sync may not have run since upstream moved)."""
    if not clears_margin(
        price=charge, cost=cost, min_margin_percent=settings.PANEL_MIN_MARGIN_PERCENT
    ):
        raise BelowMargin()


def _clean_client_ref(client_ref: str | None) -> str | None:
    if client_ref is None or not client_ref.strip():
        return None
    client_ref = client_ref.strip()
    if not is_storable(client_ref):
        raise InvalidOrderField("client_ref", _("Remove the control characters."))
    if len(client_ref) > MAX_CLIENT_REF_LENGTH:
        raise InvalidOrderField(
            "client_ref",
            format_lazy(_("At most {count} characters."), count=MAX_CLIENT_REF_LENGTH),
        )
    return client_ref


def _create_charged(
    model: type[_Row],
    *,
    user: User,
    client_ref: str | None,
    values: dict[str, object],
    memo: MemoKind,
    memo_item: str,
    actor: str,
    actor_user: User | None = None,
) -> _Row:
    """Create the row, debit its charge and record it in one transaction. A concurrent insert of
    the same client_ref wins: its row is returned instead. An order whose link already has an
    open order of its service is not written: raises LinkBusy.

    Nothing is published: the row is born `queued`, and the forwarding sweep (beat, every
    PANEL_FORWARD_SWEEP_SECONDS) queues its forward. A broker outage therefore cannot touch
    placing at all, and the API's `add` is spared a broker round trip per order.

    Called outside any transaction (the API's `add`: panel.api.views), the one statement is
    its own transaction: no BEGIN and no COMMIT, and a refused debit writes nothing at all."""
    alone = not is_in_transaction()
    try:
        # A savepoint costs two round trips on every order, and only a client_ref's unique key
        # can make the insert fail in a way the caller recovers from (below).
        with nullcontext() if alone else transaction.atomic(savepoint=client_ref is not None):
            row = model(user=user, client_ref=client_ref, **values)
            event = event_for(
                row,
                field="status",
                new=row.status,
                message=PLACED(),
                actor=actor,
                actor_user=actor_user,
            )
            # The debit rides in the row's own statement (one round trip, not two), made only
            # when the row is. It locks the user's row until the commit, which follows at once,
            # and a reseller's concurrent orders queue on that lock.
            debit = (
                balance_debit_move(
                    user_id=user.pk,
                    amount=row.charge,
                    kind=BalanceTransaction.Kind.CHARGE,
                    memo=memo(item=memo_item[:200]),
                    subject="order_id" if model is Order else "product_order_id",
                )
                if row.charge > ZERO
                else None
            )
            inserted = _insert_placed(row, event, debit, alone=alone)
            if inserted is Inserted.REFUSED and row.pk is not None:
                # Nothing was debited, so the transaction is intact: without a savepoint to
                # roll back to, the row and its event go the same way. Nobody else ever saw
                # them; they were not committed. (Alone, a refusal fails the statement and
                # leaves no row: the only way to an unmoved balance with the row written is a
                # user deleted meanwhile, whose key check fails the statement too.)
                row.delete()
    except IntegrityError:
        if client_ref and (existing := _placed_before(model, user=user, client_ref=client_ref)):
            return existing
        raise
    if inserted is Inserted.REFUSED:
        # Raised out here: raised within the block, it would leave the caller's transaction
        # unusable, there being no savepoint to roll back to.
        debit_refused(user_id=user.pk)
    if inserted is Inserted.TAKEN:
        # Nothing was written, so nothing was charged; the transaction is intact. A racing
        # replay of this client_ref holds the link with the very order asked for: that one.
        if client_ref and (existing := _placed_before(model, user=user, client_ref=client_ref)):
            return existing
        raise LinkBusy(_open_order_on_link(row) if isinstance(row, Order) else None)
    return row


def _placed_before(model: type[_Row], *, user: User, client_ref: str) -> _Row | None:
    """The row this user's client_ref placed. An order of an archived month keeps its key
    (panel.archive), so a retry lands here: it answers as an unsaved Order carrying its id,
    since the row itself is in the archive's files. Only read once the key was met, so the
    common `add` pays nothing for it."""
    existing = model.objects.filter(user=user, client_ref=client_ref).first()
    if existing is None and model is Order:
        archived_id = archived_order_by_client_ref(user=user, client_ref=client_ref)
        if archived_id is not None:
            return model(pk=archived_id, user=user, client_ref=client_ref)
    return existing


def _insert_placed(
    row: Order | ProductOrder, event: OrderEvent, debit: RowMove | None, *, alone: bool
) -> Inserted:
    """Insert `row`, its Placed event and `debit` (none for a free row) in one statement: every
    order pays a round trip per statement. TAKEN, and nothing written, when the order's link
    already has an open order of its service (the database's unique index decides, so two
    racing orders cannot both pass); REFUSED when the balance does not cover the debit.
    `alone`: the statement is its own transaction (core.db.inserts)."""
    guarded = isinstance(row, Order) and row.link_key is not None
    unless_taken = ONE_OPEN_ORDER_PER_LINK if guarded else None
    link = event_link(type(row))
    if debit is not None:
        return insert_with_event_and_move(
            row=row, event=event, link=link, move=debit, unless_taken=unless_taken, alone=alone
        )
    is_placed = insert_with_event(row=row, event=event, link=link, unless_taken=unless_taken)
    return Inserted.PLACED if is_placed else Inserted.TAKEN


def _open_order_on_link(order: Order) -> int | None:
    """The open order holding `order`'s link, for the refusal to point at: None when it is
    another customer's (never reveal that it exists) or finished in the meantime."""
    holder = Order.objects.filter(
        service_id=order.service_id,
        link_key=order.link_key,
        status__in=OrderStatus.opens(),
        user_id=order.user_id,
    )
    return holder.values_list("pk", flat=True).first()


def order_place(
    *,
    user: User,
    service_id: object,
    fields: Mapping[str, object],
    client_ref: str | None = None,
    source: str = Source.WEB,
    actor_user: User | None = None,
    service_read: ServiceRead | None = None,
) -> Order:
    """Validate, charge and create an order in one transaction; the forwarding sweep sends it.

    With a `client_ref` already used by this user, returns that order and charges nothing.
    Raises IncorrectService, an InvalidRequest kind (fields, link, quantity), LinkBusy (the
    service takes one open order per link and the link has one) or InsufficientFunds.
    `service_read` is `service_for_order`'s answer for this user, when the caller read it
    already (the API reads it with the key); it is used only for the service it was read for.
    """
    client_ref = _clean_client_ref(client_ref)
    if client_ref and (existing := Order.objects.filter(user=user, client_ref=client_ref).first()):
        return existing
    number = parse_id(service_id)
    # One query: the service, its provider, the user's own rate and whether it has routes.
    # The user's own panel's catalog, whichever host placed the order (docs/child-panels.md).
    if number is None:
        found = None
    elif service_read is not None and service_read.service_id == number:
        found = service_read.found
    else:
        found = service_for_order(
            service_id=number, user_id=user.pk, child_panel_id=user.child_panel_id
        )
    if found is None:
        raise IncorrectService()
    service = found.service
    request = parse_order_fields(service, fields)
    rate = customer_pricing_of(user=user, found=found).service_rate(
        service_id=service.pk, rate=service.rate
    )
    charge = pricing.order_charge(
        rate=rate, units=request.total_quantity, is_package=request.is_package
    )
    choice = route_for(service, has_routes=found.has_routes)
    if choice is None:
        raise IncorrectService()  # routes exist, none usable: the service cannot be bought now
    # The cost is frozen on the order from here on; the check reads no more than placing did.
    cost = choice.cost(units=request.total_quantity, is_package=request.is_package)
    _check_margin(charge=charge, cost=cost)
    return _create_charged(
        Order,
        user=user,
        client_ref=client_ref,
        values={
            "service": service,
            "provider": choice.provider,
            "route": choice.route,
            "upstream_service_id": choice.upstream_service_id,
            "link": request.link,
            "link_key": link_key(request.link)
            if service.is_one_order_per_link and request.link
            else None,
            "quantity": request.quantity,
            "total_quantity": request.total_quantity,
            "runs": request.runs,
            "interval": request.interval,
            "details": request.details,
            "charge": charge,
            "upstream_rate": choice.upstream_rate,
            "exchange_rate": choice.exchange_rate,
            "cost": cost,
            "remains": request.total_quantity,
            "source": source,
        },
        memo=ORDER_CHARGE,
        memo_item=service.display_name,
        actor=_ACTOR_BY_SOURCE[source],
        actor_user=actor_user,
    )


@dataclass(frozen=True)
class MassOrderLine:
    line_number: int
    text: str
    order: Order | None = None
    error: str = ""  # the protocol's text
    failure: PanelError | None = None

    @property
    def shown_error(self) -> str:
        """The error in the reader's language."""
        return error_display(self.failure) if self.failure else gettext(self.error)


def orders_place_mass(*, user: User, text: str, source: str = Source.MASS) -> list[MassOrderLine]:
    """One order per line, `service_id | link | quantity`; each line stands or fails alone."""
    results: list[MassOrderLine] = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 3:
            results.append(MassOrderLine(number, line, error=MASS_LINE_FORMAT))
            continue
        service_id, link, quantity = parts
        try:
            with transaction.atomic():
                order = order_place(
                    user=user,
                    service_id=service_id,
                    fields={"link": link, "quantity": quantity},
                    source=source,
                )
        except PanelError as exc:
            results.append(MassOrderLine(number, line, error=exc.message, failure=exc))
        else:
            results.append(MassOrderLine(number, line, order=order))
    return results


def product_order_place(
    *,
    user: User,
    product_id: object,
    quantity: object,
    require: str | None,
    client_ref: str | None = None,
    source: str = Source.WEB,
) -> ProductOrder:
    """Validate, charge and create a product order; the forwarding sweep sends it."""
    client_ref = _clean_client_ref(client_ref)
    if client_ref and (
        existing := ProductOrder.objects.filter(user=user, client_ref=client_ref).first()
    ):
        return existing
    product: Product = _on_sale(Product, product_id, IncorrectProduct)
    if not product.is_in_stock or product.inventory == 0:
        raise OutOfStock()
    count = parse_whole(quantity)
    if count is None:
        raise InvalidOrderField("quantity", _("Enter a whole number."))
    check_limits(quantity=count, minimum=product.min, maximum=product.max)
    if product.inventory is not None and count > product.inventory:
        raise OutOfStock()
    require = (require or "").strip()
    if not is_storable(require):
        raise InvalidOrderField("require", _("Remove the control characters."))
    if product.require and not require:
        raise InvalidOrderField("require", format_lazy(_("Required: {what}"), what=product.require))
    rate = customer_pricing(user=user, service_ids=[]).product_rate(rate=product.rate)
    charge = pricing.product_charge(rate=rate, quantity=count)
    exchange_rate = product.provider.exchange_rate
    cost = pricing.converted(amount=product.upstream_rate * count, exchange_rate=exchange_rate)
    _check_margin(charge=charge, cost=cost)
    return _create_charged(
        ProductOrder,
        user=user,
        client_ref=client_ref,
        values={
            "product": product,
            "provider": product.provider,
            "quantity": count,
            "require": require[:5000],
            "charge": charge,
            "upstream_rate": product.upstream_rate,
            "exchange_rate": exchange_rate,
            "cost": cost,
            "source": source,
        },
        memo=PRODUCT_ORDER_CHARGE,
        memo_item=product.display_name,
        actor=_ACTOR_BY_SOURCE[source],
    )
