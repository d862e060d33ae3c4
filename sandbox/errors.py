"""The two ways a sandbox request fails: a protocol error or a control-endpoint error."""

from __future__ import annotations

INVALID_KEY = "Invalid API key"
INCORRECT_REQUEST = "Incorrect request"
INCORRECT_SERVICE = "Incorrect service ID"
INCORRECT_LINK = "Incorrect link"
NO_FUNDS = "Not enough funds on balance"
LINK_DUPLICATE = "You have active order with this link. Please wait until order being completed."
INCORRECT_ORDER = "Incorrect order ID"
INCORRECT_REFILL = "Incorrect refill ID"
REFILL_UNAVAILABLE = "Refill is not available for this order"
CANCEL_UNAVAILABLE = "Cancel is not available for this order"
INCORRECT_PRODUCT = "Incorrect product ID"
OUT_OF_STOCK = "Product is out of stock"
TOO_MANY_IDS = "Too many IDs (limit 100)"


def quantity_too_low(minimum: int) -> str:
    return f"Quantity less than minimal {minimum}"


def quantity_too_high(maximum: int) -> str:
    return f"Quantity more than maximal {maximum}"


class ApiError(Exception):
    """A v2 protocol error: answered as HTTP 200 {"error": message}."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ControlError(Exception):
    """A bad request to a /_sandbox/ endpoint: answered with an HTTP error status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
