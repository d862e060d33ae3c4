"""What can go wrong when the panel talks to an upstream provider.

Each class asks the caller for a different reaction (docs/protocol.md, "Upstream (client)"), so the
forwarding and polling code branches on the class, never on the message. Every `.message` is safe
to show an admin: the client redacts the API key before it builds one.
"""

from core.errors import PanelError


class ProviderError(PanelError):
    """Base of every upstream failure. `.action` is the v2 action that failed ("add", "status" …).

    `.upstream_message` is the provider's own error text after leaked message keys were mapped
    (`neworder.error.not_enough_funds` → "Not enough funds on balance"), or None when the
    provider never answered with one.
    """

    default_message = "The provider could not process the request"

    def __init__(
        self,
        message: str | None = None,
        *,
        action: str = "",
        upstream_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.action = action
        self.upstream_message = upstream_message


class ProviderUnavailable(ProviderError):
    """The request never reached the provider, or a read-only call failed: retry later."""

    default_message = "The provider is unavailable"


class ProviderRejected(ProviderError):
    """The provider answered `{"error": …}`: it refused the request and did nothing."""

    default_message = "Incorrect request"


class ProviderBusy(ProviderError):
    """Out of funds upstream, a duplicate active link, or throttled: keep the work queued.

    `.retry_after` holds the seconds from a 429's Retry-After header when the provider sent one.
    """

    default_message = "Too many requests"

    def __init__(
        self,
        message: str | None = None,
        *,
        action: str = "",
        upstream_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, action=action, upstream_message=upstream_message)
        self.retry_after = retry_after


class ProviderAmbiguous(ProviderError):
    """A write action was sent but its outcome is unknown. Never resend it automatically:
    upstream `add` has no idempotency key, so a blind retry may buy the service twice."""

    default_message = "The provider's answer was lost; the outcome is unknown"


class ProviderAuthError(ProviderError):
    """The provider refused our credentials (bad key, IP not allowed, account banned)."""

    default_message = "Invalid API key"
