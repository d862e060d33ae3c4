"""Order errors. Messages are the v2 protocol's exact strings (docs/protocol.md); `field` names the
form field a browser form should show the error beside."""

from core.errors import InsufficientFunds, InvalidRequest, InvalidTransition, PanelError

__all__ = [
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
    "OutOfStock",
    "PanelError",
    "QuantityOutOfRange",
    "RefillNotAvailable",
]


class InvalidOrderField(InvalidRequest):
    """A field of the order is missing or malformed. The API says "Incorrect request"; forms
    show `detail` beside `field`."""

    def __init__(self, field: str, detail: str, message: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.detail = detail


class IncorrectService(PanelError):
    default_message = "Incorrect service ID"


class IncorrectProduct(PanelError):
    default_message = "Incorrect product ID"


class OutOfStock(PanelError):
    default_message = "Product is out of stock"


class IncorrectLink(InvalidOrderField):
    def __init__(self, detail: str = "Enter a link (https://…) or a username.") -> None:
        super().__init__("link", detail, "Incorrect link")


class QuantityOutOfRange(InvalidOrderField):
    def __init__(self, message: str, field: str = "quantity") -> None:
        super().__init__(field, message, message)


class IncorrectOrder(PanelError):
    default_message = "Incorrect order ID"


class IncorrectRefill(PanelError):
    default_message = "Incorrect refill ID"


class RefillNotAvailable(PanelError):
    default_message = "Refill is not available for this order"


class CancelNotAvailable(PanelError):
    default_message = "Cancel is not available for this order"
