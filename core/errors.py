"""The panel's error hierarchy. Each message is what a customer or reseller is shown; where the
v2 protocol names an exact string (docs/protocol.md), the message is that string.

Messages stay English (the API sends them as they are); pages show `error_display(exc)`, which
translates them. The msgids are marked with gettext_noop so the catalog holds them."""

from django.utils.translation import gettext, gettext_noop


class PanelError(Exception):
    """`message` is an English template marked with gettext_noop, its %(name)s filled from
    `params`: `.message` is the English sentence (the APIs send it as it is), and
    error_display puts the template into the reader's words before filling it."""

    default_message = gettext_noop("Incorrect request")

    def __init__(self, message: str | None = None, **params: object) -> None:
        self.template = message or self.default_message
        self.params = params
        self.message = self.template % params if params else self.template
        super().__init__(self.message)


class InvalidRequest(PanelError):
    default_message = gettext_noop("Incorrect request")


class InsufficientFunds(PanelError):
    default_message = gettext_noop("Not enough funds on balance")


class InvalidTransition(PanelError):
    default_message = gettext_noop("This change is not possible in the current state")


def error_display(exc: PanelError) -> str:
    """What a page shows for `exc` in the active language: the detail a form field gets, else
    the translated message (a message without a catalog entry is shown as it is)."""
    detail = getattr(exc, "detail", None)
    if detail:
        return str(detail)
    return gettext(exc.template) % exc.params if exc.params else gettext(exc.message)
