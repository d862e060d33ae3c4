"""The books: every order's and product order's ledger lines against its charge and refund (the
refund exact, and once), every payment the gateways reported credited once to the right
customer, every referred deposit's commission accrued once and settled once, and
`check_ledger` clean for both ledgers (balances and commission balances).

Each `check_*` takes plain rows (dicts), so a test can plant a violation; `gather_*` reads them
from the panel's database."""

from collections import defaultdict
from decimal import ROUND_DOWN, Decimal
from typing import Any

from bench.chaos.checks.findings import Findings

FINALS = ("Completed", "Partial", "Canceled")


def expected_refund(row: dict) -> Decimal | None:
    """The one refund rule (orders/lifecycle/refunds.py) for a plain per-1000 order: full on
    Canceled, charge × remains / quantity on Partial, nothing otherwise. A product order's
    Partial is measured by what the provider charged for it (`upstream_charge`, read from the
    sandbox) against its price for all of it (upstream rate × quantity); None when the sandbox
    did not say."""
    from orders.pricing import partial_refund, undelivered_share_refund

    if row["status"] == "Canceled":
        return Decimal(row["charge"])
    if row["status"] == "Partial":
        if row["kind"] != "order":
            if row.get("upstream_charge") is None:
                return None
            return undelivered_share_refund(
                charge=Decimal(row["charge"]),
                upstream_charge=Decimal(row["upstream_charge"]),
                upstream_expected=Decimal(row["upstream_rate"]) * row["total_quantity"],
            )
        return partial_refund(
            charge=row["charge"], remains=row["remains"], total_quantity=row["total_quantity"]
        )
    return Decimal(0)


def check_refunds(
    rows: list[dict], ledger: dict[tuple[str, int], list[dict]], findings: Findings
) -> None:
    """Each row: one charge line of −charge; its refund lines add up to `refunded`, in one line
    at most; `refunded` is what the refund rule gives for its status (nothing before it is
    final, whatever was replayed)."""
    refunds = exact_products = 0
    for row in rows:
        name = f"{row['kind'].replace('_', ' ')} {row['id']}"
        lines = ledger.get((row["kind"], row["id"]), [])
        charges = [line["amount"] for line in lines if line["kind"] == "charge"]
        refund_lines = [line["amount"] for line in lines if line["kind"] == "refund"]
        if charges != [-Decimal(row["charge"])]:
            findings.violation(f"{name} charged {row['charge']} but its ledger charges {charges}")
        if len(refund_lines) > 1:
            findings.violation(f"{name} was refunded {len(refund_lines)} times: {refund_lines}")
        if sum(refund_lines, Decimal(0)) != Decimal(row["refunded"]):
            findings.violation(
                f"{name} shows {row['refunded']} refunded but its ledger refunds "
                f"{sum(refund_lines, Decimal(0))}"
            )
        refunds += bool(refund_lines)
        if row["status"] not in FINALS:
            if Decimal(row["refunded"]):
                findings.violation(f"{name} is {row['status']} but refunded {row['refunded']}")
            continue
        due = expected_refund(row)
        if due is None:
            findings.violation(
                f"{name} is {row['status']}, but the provider's charge for it is unknown"
            )
        elif Decimal(row["refunded"]) != due:
            findings.violation(
                f"{name} is {row['status']} (remains {row.get('remains')}) and refunded "
                f"{row['refunded']}, the rule says {due}"
            )
        exact_products += row["kind"] == "product_order" and row["status"] == "Partial"
    findings.figures["refunds"] = refunds
    findings.figures["product_partials_exact"] = exact_products


def check_deposits(
    *,
    deposits: list[dict],
    ledger: dict[int, list[dict]],
    transfers: dict[str, dict],
    card_sessions: dict[str, dict],
    vnd_rate: Decimal,
    findings: Findings,
) -> None:
    """Every bank transfer the reporters sent is one deposit credited to the customer its memo
    names, with amount ÷ rate (rounded down); every paid card session one credited deposit of
    its amount; every credited deposit one ledger line of what it credited, and no other
    deposit any."""
    by_reference: dict[str, list[dict]] = defaultdict(list)
    by_session: dict[str, list[dict]] = defaultdict(list)
    for deposit in deposits:
        if deposit["bank_reference"]:
            by_reference[deposit["bank_reference"]].append(deposit)
        if deposit["gateway"] == "stripe":
            by_session[deposit["external_id"]].append(deposit)
        lines = [
            line["amount"] for line in ledger.get(deposit["id"], []) if line["kind"] == "deposit"
        ]
        if deposit["status"] == "credited":
            if lines != [Decimal(deposit["credited_amount"])]:
                findings.violation(
                    f"deposit {deposit['id']} credited {deposit['credited_amount']}, "
                    f"its ledger lines are {lines}"
                )
        elif lines:
            findings.violation(
                f"deposit {deposit['id']} is {deposit['status']} but credited {lines}"
            )
    for reference, sent in transfers.items():
        found = by_reference.get(reference, [])
        expected = (Decimal(sent["vnd"]) / vnd_rate).quantize(Decimal("0.000001"), ROUND_DOWN)
        _one_credited(f"bank transfer {reference}", found, sent["user_id"], expected, findings)
    for session_id, session in card_sessions.items():
        found = by_session.get(session_id, [])
        _one_credited(
            f"card session {session_id}", found, None, Decimal(session["amount"]), findings
        )
    findings.figures["deposits_credited"] = sum(d["status"] == "credited" for d in deposits)


def _one_credited(
    what: str, found: list[dict], user_id: int | None, amount: Decimal, findings: Findings
) -> None:
    if len(found) != 1:
        findings.violation(f"{what} is {len(found)} deposits")
        return
    deposit = found[0]
    if deposit["status"] != "credited":
        findings.violation(f"{what}: deposit {deposit['id']} is {deposit['status']}, not credited")
    elif Decimal(deposit["credited_amount"]) != amount:
        findings.violation(f"{what}: credited {deposit['credited_amount']}, expected {amount}")
    if user_id is not None and deposit["user_id"] != user_id:
        findings.violation(f"{what}: credited user {deposit['user_id']}, its memo names {user_id}")


def check_commissions(
    *,
    referred_deposits: list[dict],
    commissions: list[dict],
    lines: dict[int, list[dict]],
    findings: Findings,
) -> None:
    """Every credited deposit of a referred customer has one commission of credited × percent
    (rounded down); every available commission one ledger line of its amount, every other none
    (one left pending too long is check_transient's)."""
    by_deposit: dict[int, list[dict]] = defaultdict(list)
    for commission in commissions:
        by_deposit[commission["deposit_id"]].append(commission)
        credited = [
            line["amount"]
            for line in lines.get(commission["id"], [])
            if line["kind"] == "commission"
        ]
        if commission["status"] == "available":
            if credited != [Decimal(commission["amount"])]:
                findings.violation(
                    f"commission {commission['id']} of {commission['amount']} settled as {credited}"
                )
        elif credited and commission["status"] != "reversed":  # check_chargebacks' rows
            findings.violation(
                f"commission {commission['id']} is {commission['status']} but settled"
            )
    for deposit in referred_deposits:
        found = by_deposit.get(deposit["id"], [])
        if len(found) != 1:
            findings.violation(
                f"deposit {deposit['id']} of a referred customer has {len(found)} commissions"
            )
            continue
        due = (Decimal(deposit["credited_amount"]) * Decimal(found[0]["percent"]) / 100).quantize(
            Decimal("0.000001"), ROUND_DOWN
        )
        if Decimal(found[0]["amount"]) != due:
            findings.violation(
                f"commission {found[0]['id']} is {found[0]['amount']}, "
                f"{found[0]['percent']} % of {deposit['credited_amount']} is {due}"
            )
    findings.figures["commissions"] = len(commissions)
    findings.figures["commissions_settled"] = sum(c["status"] == "available" for c in commissions)


def check_ledger(findings: Findings) -> None:
    """What `manage.py check_ledger` checks: every balance and every commission balance equals
    the sum of its ledger rows."""
    from accounts.selectors import ledger_mismatches

    for row in ledger_mismatches():
        findings.violation(
            f"check_ledger: user {row.user_id} ({row.username}): {row.book} {row.balance} "
            f"!= ledger sum {row.ledger_sum}"
        )


def gather_refund_rows() -> tuple[list[dict], dict[tuple[str, int], list[dict]]]:
    from django.db.models import F

    from accounts.models import BalanceTransaction
    from orders.models import Order, ProductOrder

    rows = [
        {"kind": "order", **row}
        for row in Order.objects.values(
            "id", "status", "charge", "refunded", "remains", "total_quantity"
        )
    ] + [
        {"kind": "product_order", **row, "total_quantity": row["quantity"]}
        for row in ProductOrder.objects.annotate(level=F("user__child_panel_id")).values(
            "id",
            "status",
            "charge",
            "refunded",
            "quantity",
            "upstream_rate",
            "upstream_id",
            "level",
        )
    ]
    ledger: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for line in BalanceTransaction.objects.filter(refill_id__isnull=True).values(
        "order_id", "product_order_id", "kind", "amount"
    ):
        if line["order_id"] is not None:
            ledger["order", line["order_id"]].append(line)
        elif line["product_order_id"] is not None:
            ledger["product_order", line["product_order_id"]].append(line)
    return rows, ledger


def provider_charges(rows: list[dict], sandbox_charges: dict[str, str]) -> None:
    """Each product order's `upstream_charge`: what its provider charges for it now. The
    parent's product orders were bought at the sandbox (`sandbox_charges`, by its id); a child
    panel's were bought at the parent, whose API answers its product order's charge less its
    refund."""
    parents = {row["id"]: row for row in rows if row["kind"] == "product_order"}
    for row in rows:
        if row["kind"] != "product_order" or not row.get("upstream_id"):
            continue
        if row.get("level") is None:
            row["upstream_charge"] = sandbox_charges.get(row["upstream_id"])
        elif (parent := parents.get(int(row["upstream_id"]))) is not None:
            row["upstream_charge"] = str(Decimal(parent["charge"]) - Decimal(parent["refunded"]))


def product_charges(sandbox_api: str, key: str, upstream_ids: list[str]) -> dict[str, str]:
    """What the sandbox charges for each of its product orders now (its `charge`), by id; read
    once the run is over, with the sandbox's faults off."""
    import httpx

    charges: dict[str, str] = {}
    for start in range(0, len(upstream_ids), 100):
        ids = upstream_ids[start : start + 100]
        answer = httpx.post(
            sandbox_api,
            data={"key": key, "action": "product_order_status", "orders": ",".join(ids)},
            timeout=30,
        ).json()
        for upstream_id, item in answer.items():
            if isinstance(item, dict) and "charge" in item:
                charges[upstream_id] = str(item["charge"])
    return charges


def gather_deposits() -> tuple[list[dict], dict[int, list[dict]]]:
    from accounts.models import BalanceTransaction
    from payments.models import Deposit

    deposits = list(
        Deposit.objects.values(
            "id", "user_id", "gateway", "external_id", "bank_reference", "status", "credited_amount"
        )
    )
    ledger: dict[int, list[dict]] = defaultdict(list)
    for line in BalanceTransaction.objects.filter(deposit_id__isnull=False).values(
        "deposit_id", "kind", "amount"
    ):
        ledger[line["deposit_id"]].append(line)
    return deposits, ledger


def gather_commissions() -> tuple[list[dict], list[dict], dict[int, list[dict]]]:
    from django.db.models import F

    from accounts.models import CommissionTransaction
    from affiliates.models import Commission
    from payments.models import Deposit

    referred: list[Any] = list(
        Deposit.objects.filter(
            status=Deposit.Status.CREDITED,
            user__referral__isnull=False,
            credited_at__gte=F("user__referral__created_at"),
        ).values("id", "credited_amount")
    )
    commissions = list(Commission.objects.values("id", "deposit_id", "status", "amount", "percent"))
    lines: dict[int, list[dict]] = defaultdict(list)
    for line in CommissionTransaction.objects.filter(commission_id__isnull=False).values(
        "commission_id", "kind", "amount"
    ):
        lines[line["commission_id"]].append(line)
    return referred, commissions, lines
