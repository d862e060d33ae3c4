"""Order errors. Messages are the v2 protocol's exact strings (docs/protocol.md); `field` names the
form field a browser form should show the error beside."""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.errors import InsufficientFunds, InvalidRequest, InvalidTransition, PanelError

__all__ = [
    "BelowMargin",
    "CancelNotAvailable",
    "IncorrectLink",
    "IncorrectOrder",
    "IncorrectProduct",
    "IncorrectRefill",
    "IncorrectService",
    "InsufficientFunds",
    "InvalidOrderField",
    "InvalidRequest",
    "InvalidTransition",
    "LinkBusy",
    "OutOfStock",
    "PanelError",
    "QuantityOutOfRange",
    "RefillNotAvailable",
]


class InvalidOrderField(InvalidRequest):
    """A field of the order is missing or malformed. The API says "Incorrect request"; forms
    show `detail` beside `field`."""

    def __init__(self, field: str, detail: object, message: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.detail = detail


class IncorrectService(PanelError):
    default_message = gettext_noop("Incorrect service ID")


class BelowMargin(IncorrectService):
    """The charge would not clear the item's cost plus the minimum margin (the margin guard,
    PANEL_MIN_MARGIN_PERCENT): to the API the item is unavailable, as the protocol words it;
    a page says why."""

    detail = _(
        "This service cannot be ordered right now: its price is being reviewed after a change "
        "at the supplier. Please try again later or choose another service."
    )


class IncorrectProduct(PanelError):
    default_message = gettext_noop("Incorrect product ID")


class OutOfStock(PanelError):
    default_message = gettext_noop("Product is out of stock")


class IncorrectLink(InvalidOrderField):
    def __init__(self, detail: object = None) -> None:
        super().__init__(
            "link", detail or _("Enter a link (https://…) or a username."), "Incorrect link"
        )


class QuantityOutOfRange(InvalidOrderField):
    """`message` is the protocol's text with the limit; `detail` says it in the reader's language."""

    def __init__(self, message: str, field: str = "quantity", detail: object = None) -> None:
        super().__init__(field, detail or message, message)


class IncorrectOrder(PanelError):
    default_message = gettext_noop("Incorrect order ID")


class IncorrectRefill(PanelError):
    default_message = gettext_noop("Incorrect refill ID")


class RefillNotAvailable(PanelError):
    """The API says the protocol's one string; pages and tickets show `detail`: why, and when
    it becomes possible (orders.refill_rules.RefillVerdict)."""

    default_message = gettext_noop("Refill is not available for this order")

    def __init__(self, message: str | None = None, *, verdict: object = None) -> None:
        super().__init__(message)
        self.verdict = verdict
        reason = getattr(verdict, "reason", "")
        self.detail = reason or None


class CancelNotAvailable(PanelError):
    default_message = gettext_noop("Cancel is not available for this order")


class LinkBusy(PanelError):
    """The service takes one open order per link, and the link has one: `active_order_id`."""

    default_message = gettext_noop(
        "You have active order with this link. Please wait until order being completed."
    )

    def __init__(self, active_order_id: int | None) -> None:
        super().__init__()
        self.active_order_id = active_order_id
        # Pages say it in the reader's language; the API keeps the protocol's string.
        self.detail = (
            format_lazy(
                _(
                    "This link already has an open order (#{id}) for this service. "
                    "You can order it again once that order is completed."
                ),
                id=active_order_id,
            )
            if active_order_id
            else _(
                "This link already has an open order for this service. "
                "You can order it again once that order is completed."
            )
        )
