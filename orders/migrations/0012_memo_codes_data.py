"""Order history notes and product order notes written in English become codes and parameters
(core.memos, orders.memos), so they are shown in the reader's language. Every wording the panel
ever wrote is parsed (from its history); what does not parse (an admin's words, a provider's
note) stays as it was. "Demo history", the demo's filler note, is dropped. Reversible: going
back writes the English wording from the code."""

import re

from django.db import migrations

BATCH = 2000

# Sentences without parameters: code → every wording the panel wrote for it (the first is the
# one going back writes).
FIXED = {
    "placed": ["Placed"],
    "refill_requested": ["Refill requested"],
    "canceled_before_sent": ["Canceled before it was sent"],
    "cancel_requested": ["Cancel requested from the provider"],
    "cancel_held": ["Cancel recorded: applied once the provider's answer to the add is known"],
    "canceled_never_landed": [
        "Canceled: the cancel came while it was being sent, and it never landed"
    ],
    "completed_by_admin": ["Completed (admin)"],
    "canceled_by_admin": ["Canceled by an admin after review"],
    "refill_asked_again": ["The provider did not refill it: the panel asked again"],
    "refill_reordered": [
        "The provider did not refill it: the missing quantity was ordered from another supplier"
    ],
    "refill_refunded": ["The refill could not be done: the missing quantity was refunded"],
    "refilled_by_replacement": ["Refilled by the replacement order"],
    "replacement_short": [
        "The replacement order did not deliver everything: the rest was refunded"
    ],
    "polling_resumed": ["Polling resumed by an admin"],
    "sent_again": [
        "Not at the provider (checked by an admin): sent again",
        "Not at the provider: sent again by an admin",
    ],
    "cancel_settled_by_admin": ["Settled by an admin after looking at the provider"],
    "accepted": ["Accepted"],
    "worker_lost": [
        "No answer was recorded: the worker stopped during the upstream call. Not resent."
    ],
    "refill_rule_takes_over": ["Rejected by the provider: the service's refill rule takes over"],
    "partial_no_figures": [
        "Partial without remains or charge from the provider: give the delivered quantity",
        "Partial without remains or charge from the provider: set the refund by hand",
        "Partial without a charge from the provider: set the refund by hand",
        "Partial without a charge from the provider: refund by hand",
    ],
}
_BY_TEXT = {text: code for code, texts in FIXED.items() for text in texts}

# Sentences with parameters, in the order they are tried (the refill rule's rejection above is
# an exact sentence, tried first, before the general "Rejected by the provider: …").
PATTERNS = [
    ("partial_by_admin_charged", r"Partial \(admin\): the provider charged (?P<charge>\S+)"),
    (
        "partial_by_admin_delivered",
        r"Partial \(admin\): (?P<delivered>\d+) of (?P<base>\d+) delivered",
    ),
    ("rejected", r"Rejected by the provider: (?P<reason>.*)"),
    ("rerouted", r"Rejected by (?P<provider>.+?): (?P<error>.*); next route: (?P<next>.+)"),
    ("attempt", r"Attempt (?P<number>\d+)"),
    ("will_retry", r"Not sent, will retry: (?P<error>.*)"),
    ("key_refused", r"Provider refused the panel's key: (?P<error>.*)"),
    ("outcome_unknown", r"Outcome unknown, not resent: (?P<error>.*)"),
    ("unexpected_error", r"Unexpected error, not resent: (?P<error>.*)"),
    ("link_busy", r"Waiting for the link's running order upstream: (?P<error>.*)"),
    ("provider_busy", r"Provider busy, waiting: (?P<error>.*)"),
    (
        "answered_late",
        r"The provider answered late with upstream id (?P<upstream_id>.*): it was bought",
    ),
    (
        "upstream_id_taken",
        r"The provider answered with upstream id (?P<upstream_id>.*), which another row already has",
    ),
    ("upstream_id", r"Upstream id (?P<upstream_id>.+)"),
    ("found_at_provider", r"Found at the provider as (?P<upstream_id>.+)"),
    ("cancel_not_sent", r"Not sent upstream: the order is (?P<status>.+)"),
    (
        "keeps_answering",
        r"The provider keeps answering (?P<answer>.*) for upstream id (?P<upstream_id>.*)",
    ),
    ("replacement_of", r"Replacement of refill (?P<refill>\d+) \(order (?P<order>\d+)\)"),
]
_PATTERNS = [(code, re.compile(f"^{pattern}$", re.S)) for code, pattern in PATTERNS]
_NUMBERS = {"delivered", "base", "number", "refill", "order"}

# The review reasons (orders.models.ReviewReason): a move into review without a note stored
# the reason's value as its note.
REASONS = {
    "add_unknown",
    "worker_lost",
    "answer_not_kept",
    "unknown_status",
    "missing_upstream",
    "partial_no_figures",
    "cancel_unknown",
}
DEMO_FILLER = "Demo history"


def parse_note(text: str, *, field: str = "") -> tuple[str, dict] | None:
    """The code and parameters of a note the panel wrote; None for anyone else's words."""
    if text in _BY_TEXT:
        return _BY_TEXT[text], {}
    if field == "dispatch" and text in REASONS:
        return "review_reason", {"reason": text}
    for code, pattern in _PATTERNS:
        if match := pattern.match(text):
            params = {
                name: int(value) if name in _NUMBERS else value
                for name, value in match.groupdict().items()
            }
            return code, params
    return None


ENGLISH = {code: texts[0] for code, texts in FIXED.items()} | {
    "partial_by_admin_charged": "Partial (admin): the provider charged {charge}",
    "partial_by_admin_delivered": "Partial (admin): {delivered} of {base} delivered",
    "rejected": "Rejected by the provider: {reason}",
    "rerouted": "Rejected by {provider}: {error}; next route: {next}",
    "attempt": "Attempt {number}",
    "will_retry": "Not sent, will retry: {error}",
    "key_refused": "Provider refused the panel's key: {error}",
    "outcome_unknown": "Outcome unknown, not resent: {error}",
    "unexpected_error": "Unexpected error, not resent: {error}",
    "link_busy": "Waiting for the link's running order upstream: {error}",
    "provider_busy": "Provider busy, waiting: {error}",
    "answered_late": "The provider answered late with upstream id {upstream_id}: it was bought",
    "upstream_id_taken": (
        "The provider answered with upstream id {upstream_id}, which another row already has"
    ),
    "upstream_id": "Upstream id {upstream_id}",
    "found_at_provider": "Found at the provider as {upstream_id}",
    "cancel_not_sent": "Not sent upstream: the order is {status}",
    "keeps_answering": "The provider keeps answering {answer} for upstream id {upstream_id}",
    "replacement_of": "Replacement of refill {refill} (order {order})",
    "review_reason": "{reason}",
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def english_note(code: str, params: dict) -> str:
    wording = ENGLISH.get(code)
    return code if wording is None else wording.format_map(_Blank(params))[:500]


def _batches(queryset):
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def forwards(apps, schema_editor):
    events = apps.get_model("orders", "OrderEvent")
    events.objects.filter(message=DEMO_FILLER).update(message="")
    for rows in _batches(events.objects.filter(message_code="").exclude(message="")):
        changed = []
        for row in rows:
            parsed = parse_note(row.message, field=row.field)
            if parsed is not None:
                row.message_code, row.message_params = parsed
                row.message = ""
                changed.append(row)
        events.objects.bulk_update(changed, ["message", "message_code", "message_params"])
    product_orders = apps.get_model("orders", "ProductOrder")
    for rows in _batches(product_orders.objects.filter(note_code="").exclude(note="")):
        changed = []
        for row in rows:
            # Only the panel's own sentences: a provider's note stays as it sent it.
            parsed = parse_note(row.note)
            if parsed is not None:
                row.note_code, row.note_params = parsed
                row.note = ""
                changed.append(row)
        product_orders.objects.bulk_update(changed, ["note", "note_code", "note_params"])


def backwards(apps, schema_editor):
    events = apps.get_model("orders", "OrderEvent")
    for rows in _batches(events.objects.exclude(message_code="")):
        for row in rows:
            row.message = english_note(row.message_code, row.message_params)
            row.message_code, row.message_params = "", {}
        events.objects.bulk_update(rows, ["message", "message_code", "message_params"])
    product_orders = apps.get_model("orders", "ProductOrder")
    for rows in _batches(product_orders.objects.exclude(note_code="")):
        for row in rows:
            row.note = english_note(row.note_code, row.note_params)
            row.note_code, row.note_params = "", {}
        product_orders.objects.bulk_update(rows, ["note", "note_code", "note_params"])


class Migration(migrations.Migration):
    dependencies = [("orders", "0011_memo_codes")]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
