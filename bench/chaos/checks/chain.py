"""The child-panel chain (child → parent → sandbox): every child order accounted for, the
parent's order for it bought at most once, and each level's money its own.

- Every order of the child panel's customers is final, queued or in review with a reason, or
  still followed while the parent's order for it waits in the parent's review (a person there
  decides, and the child's next poll reads that decision).
- At most one parent order per child order: the owner's orders are one per link, and each has
  the link of a child order (nothing bought at the parent that no child customer asked for).
- A child order sent to the parent names the parent's order it bought (`upstream_id`), of the
  same link and the owner's.
- Money at both levels: a final child order ends as its parent order did (status, remains), and
  its net charge is the parent's net charge times the child's markup (charge ÷ parent charge);
  a child order that never reached the parent keeps nothing. The refund rule itself is
  check_refunds', which holds every order of every level to it.

Each check takes plain rows, so a test can plant a violation; `gather_chain` reads them."""

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from bench.chaos.checks.findings import Findings

FINALS = ("Completed", "Partial", "Canceled")
# Each level rounds its refund to 6 places.
CHAIN_TOLERANCE = Decimal("0.000002")


def check_chain(children: list[dict], parents: list[dict], findings: Findings) -> None:
    """`children`: the child panel's customers' orders; `parents`: the owner's orders at the
    parent. Rows: {id, link, status, dispatch_state, reason, charge, refunded, remains,
    upstream_id}."""
    parent_by_id = {str(p["id"]): p for p in parents}
    parents_by_link: dict[str, list[dict]] = defaultdict(list)
    for parent in parents:
        parents_by_link[parent["link"]].append(parent)
    child_links = {child["link"] for child in children}
    for link, bought in parents_by_link.items():
        if len(bought) > 1:
            ids = ", ".join(str(p["id"]) for p in bought)
            findings.violation(
                f"child link {link} was bought {len(bought)} times at the parent ({ids})"
            )
        if link not in child_links:
            findings.violation(f"the owner's order {bought[0]['id']} ({link}) has no child order")
    waiting = 0
    worst = Decimal(0)
    for child in children:
        parent = parent_by_id.get(str(child["upstream_id"])) if child["upstream_id"] else None
        if child["upstream_id"] and parent is None:
            findings.violation(
                f"child order {child['id']} names parent order {child['upstream_id']}, "
                "which the parent lacks"
            )
            continue
        if parent is not None and parent["link"] != child["link"]:
            findings.violation(
                f"child order {child['id']} ({child['link']}) names parent order {parent['id']} "
                f"of another link ({parent['link']})"
            )
            continue
        if child["status"] not in FINALS:
            waiting += _check_open_child(child, parent, findings)
            continue
        worst = max(worst, _check_final_child(child, parent, findings))
    findings.figures["chain_child_orders"] = len(children)
    findings.figures["chain_parent_orders"] = len(parents)
    findings.figures["chain_child_final"] = sum(c["status"] in FINALS for c in children)
    findings.figures["chain_waiting_on_parent_review"] = waiting
    findings.figures["chain_child_review_reasons"] = dict(
        Counter(
            (child["reason"] or "").split(" (")[0][:80]
            for child in children
            if child["dispatch_state"] == "needs_review"
        )
    )
    findings.figures["chain_money_deviation_max"] = worst


def _check_open_child(child: dict, parent: dict | None, findings: Findings) -> int:
    state = child["dispatch_state"]
    if state == "needs_review" and not child["reason"]:
        findings.violation(f"child order {child['id']} is in review without a reason")
    elif state == "sending":
        findings.violation(f"child order {child['id']} is stuck in sending")
    elif state == "sent":
        if parent is not None and parent["dispatch_state"] == "needs_review":
            return 1  # followed until the parent's review decides its parent order
        findings.violation(
            f"child order {child['id']} did not settle: {child['status']}, its parent order "
            + (f"{parent['id']} is {parent['status']}" if parent else "is missing")
        )
    elif state == "queued" and not child["reason"]:
        findings.violation(f"child order {child['id']} is queued without a reason")
    if Decimal(child["refunded"]):
        findings.violation(f"child order {child['id']} is open but refunded {child['refunded']}")
    return 0


def _check_final_child(child: dict, parent: dict | None, findings: Findings) -> Decimal:
    net = Decimal(child["charge"]) - Decimal(child["refunded"])
    if parent is None:
        if net:
            findings.violation(
                f"child order {child['id']} never reached the parent but keeps {net}"
            )
        return abs(net)
    if parent["status"] != child["status"] or (
        child["status"] == "Partial" and parent["remains"] != child["remains"]
    ):
        findings.violation(
            f"child order {child['id']} ended {child['status']} (remains {child['remains']}), "
            f"its parent order {parent['id']} {parent['status']} (remains {parent['remains']})"
        )
        return Decimal(0)
    parent_charge = Decimal(parent["charge"])
    parent_net = parent_charge - Decimal(parent["refunded"])
    markup = Decimal(child["charge"]) / parent_charge if parent_charge else Decimal(0)
    expected = parent_net * markup
    deviation = abs(net - expected)
    if deviation > CHAIN_TOLERANCE * (1 + markup):
        findings.violation(
            f"child order {child['id']}: charge − refund is {net}, its parent order "
            f"{parent['id']} kept {parent_net} of {parent_charge}, so it should be {expected:.6f}"
        )
    return deviation


def gather_chain(owner_id: int) -> tuple[list[dict], list[dict]]:
    from orders.models import Order

    fields = (
        "id",
        "link",
        "status",
        "dispatch_state",
        "review_reason",
        "dispatch_error",
        "charge",
        "refunded",
        "remains",
        "upstream_id",
    )

    def rows(query: Any) -> list[dict]:
        found = []
        for row in query.values(*fields):
            reason, error = row.pop("review_reason"), row.pop("dispatch_error")
            found.append({**row, "reason": reason or error})
        return found

    children = rows(Order.objects.filter(user__child_panel__isnull=False).order_by("pk"))
    parents = rows(Order.objects.filter(user_id=owner_id).order_by("pk"))
    return children, parents
