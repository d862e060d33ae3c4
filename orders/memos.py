"""What the orders app writes for people to read later (core.memos): ledger memos of charges and
refunds, and the notes of order, refill and product order history. Stored as codes, shown in
the reader's language; what the provider said travels as a parameter, as it said it. A code is
kept in rows: never rename one."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.memos import as_number, define
from orders.models import STATUS_NAMES, ReviewReason


def _status(value: object) -> str:
    return str(STATUS_NAMES.get(str(value), value))


def _review_reason(value: object) -> str:
    try:
        return str(ReviewReason(str(value)).label)
    except ValueError:
        return str(value)


# --- Ledger memos ---------------------------------------------------------------------------

ORDER_CHARGE = define("order_charge", _("Order #%(id)s: %(item)s"))
PRODUCT_ORDER_CHARGE = define("product_order_charge", _("Product order #%(id)s: %(item)s"))
ORDER_REFUND = define("order_refund", _("Refund for order #%(id)s (%(status)s)"), status=_status)
PRODUCT_ORDER_REFUND = define(
    "product_order_refund", _("Refund for product order #%(id)s (%(status)s)"), status=_status
)
REFILL_REFUND = define("refill_refund", _("Refund for refill #%(id)s (%(status)s)"), status=_status)

# --- History notes the customer reads (status, refill, cancel and refund events) --------------

PLACED = define("placed", _("Placed"))
REFILL_REQUESTED = define("refill_requested", _("Refill requested"))
CANCELED_BEFORE_SENT = define("canceled_before_sent", _("Canceled before it was sent"))
CANCELED_NEVER_LANDED = define(
    "canceled_never_landed",
    _("Canceled: the cancel came while it was being sent, and it never landed"),
)
CANCEL_REQUESTED = define("cancel_requested", _("Cancel requested from the provider"))
CANCEL_HELD = define(
    "cancel_held", _("Cancel recorded: applied once the provider's answer to the add is known")
)
REJECTED = define("rejected", _("Rejected by the provider: %(reason)s"))
COMPLETED_BY_ADMIN = define("completed_by_admin", _("Completed by an admin"))
PARTIAL_BY_ADMIN_DELIVERED = define(
    "partial_by_admin_delivered",
    _("Partial, set by an admin: %(delivered)s of %(base)s delivered"),
    delivered=as_number,
    base=as_number,
)
PARTIAL_BY_ADMIN_CHARGED = define(
    "partial_by_admin_charged",
    # In the provider's currency, which the admin typed and the memo does not name: the figure
    # alone, every digit kept.
    _("Partial, set by an admin: the provider charged %(charge)s"),
    charge=as_number,
)
CANCELED_BY_ADMIN = define("canceled_by_admin", _("Canceled by an admin after review"))
REFILL_ASKED_AGAIN = define(
    "refill_asked_again", _("The provider did not refill it: the panel asked again")
)
REFILL_REORDERED = define(
    "refill_reordered",
    _("The provider did not refill it: the missing quantity was ordered from another supplier"),
)
REFILL_REFUNDED = define(
    "refill_refunded", _("The refill could not be done: the missing quantity was refunded")
)
REFILLED_BY_REPLACEMENT = define("refilled_by_replacement", _("Refilled by the replacement order"))
REPLACEMENT_SHORT = define(
    "replacement_short",
    _("The replacement order did not deliver everything: the rest was refunded"),
)

# --- History notes for operators (dispatch events) -------------------------------------------

REVIEW_REASON = define("review_reason", _("Needs review: %(reason)s"), reason=_review_reason)
FOUND_AT_PROVIDER = define("found_at_provider", _("Found at the provider as %(upstream_id)s"))
CANCEL_SETTLED_BY_ADMIN = define(
    "cancel_settled_by_admin", _("Settled by an admin after looking at the provider")
)
POLLING_RESUMED = define("polling_resumed", _("Polling resumed by an admin"))
SENT_AGAIN = define("sent_again", _("Not at the provider (checked by an admin): sent again"))
ATTEMPT = define("attempt", _("Attempt %(number)s"))
UNEXPECTED_ERROR = define("unexpected_error", _("Unexpected error, not resent: %(error)s"))
UPSTREAM_ID = define("upstream_id", _("Upstream id %(upstream_id)s"))
ACCEPTED = define("accepted", pgettext_lazy("order history", "Accepted"))
UPSTREAM_ID_TAKEN = define(
    "upstream_id_taken",
    _("The provider answered with upstream id %(upstream_id)s, which another row already has"),
)
WILL_RETRY = define("will_retry", _("Not sent, will retry: %(error)s"))
KEY_REFUSED = define("key_refused", _("Provider refused the panel's key: %(error)s"))
OUTCOME_UNKNOWN = define("outcome_unknown", _("Outcome unknown, not resent: %(error)s"))
LINK_BUSY = define("link_busy", _("Waiting for the link's running order upstream: %(error)s"))
PROVIDER_BUSY = define("provider_busy", _("Provider busy, waiting: %(error)s"))
ANSWERED_LATE = define(
    "answered_late", _("The provider answered late with upstream id %(upstream_id)s: it was bought")
)
REROUTED = define("rerouted", _("Rejected by %(provider)s: %(error)s; next route: %(next)s"))
CANCEL_NOT_SENT = define(
    "cancel_not_sent", _("Not sent upstream: the order is %(status)s"), status=_status
)
WORKER_LOST = define(
    "worker_lost",
    _("No answer was recorded: the worker stopped during the upstream call. Not resent."),
)
KEEPS_ANSWERING = define(
    "keeps_answering", _("The provider keeps answering %(answer)s for upstream id %(upstream_id)s")
)
REFILL_RULE_TAKES_OVER = define(
    "refill_rule_takes_over",
    _("Rejected by the provider: the service's refill rule takes over"),
)
PARTIAL_NO_FIGURES = define(
    "partial_no_figures",
    _("Partial without remains or charge from the provider: give the delivered quantity"),
)
REPLACEMENT_OF = define("replacement_of", _("Replacement of refill #%(refill)s (order #%(order)s)"))
