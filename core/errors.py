"""The panel's error hierarchy. Each message is what a customer or reseller is shown; where the
v2 protocol names an exact string (docs/protocol.md), the message is that string."""


class PanelError(Exception):
    default_message = "Incorrect request"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class InvalidRequest(PanelError):
    default_message = "Incorrect request"


class InsufficientFunds(PanelError):
    default_message = "Not enough funds on balance"


class InvalidTransition(PanelError):
    default_message = "This change is not possible in the current state"
