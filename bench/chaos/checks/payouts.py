"""Money leaving: affiliate payouts (commission moved to the balance, payouts requested and
decided) and chargebacks (Stripe disputes on paid card deposits).

- Every payout set aside its amount once (one payout line of −amount in the commission
  ledger); a rejected one came back once (one payout-return line of +amount), a paid or
  requested one never.
- Every move of commission into the balance is a pair: the commission ledger's transfer lines
  and the balance ledger's commission lines of each affiliate match, line for line.
- What the affiliate was told stays true: at least as many payouts and moves as were answered
  done, at most as many as were sent.
- Every dispute the gateway reported is one reversal (kind chargeback) of its session's deposit,
  whatever the replays; no other deposit has one; a commission on a reversed deposit is
  reversed, and taken back once if it had been settled (one reversal line of −amount), never
  if it had not.

Each check takes plain rows, so a test can plant a violation; `gather_*` reads them."""

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from bench.chaos.checks.findings import Findings


def check_payouts(
    *,
    payouts: list[dict],
    lines: dict[int, list[dict]],
    transfers: dict[int, list[Decimal]],
    moved: dict[int, list[Decimal]],
    told: Counter[str],
    findings: Findings,
) -> None:
    """`payouts`: {id, affiliate_id, status, amount}; `lines`: commission-ledger lines per payout;
    `transfers`: each affiliate's commission-ledger transfer amounts (negative); `moved`: each
    affiliate's balance-ledger commission amounts; `told`: what the affiliate's requests were
    answered ("payout done", "payout sent", "move done", "move sent")."""
    for payout in payouts:
        amount = Decimal(payout["amount"])
        kinds = Counter()
        for line in lines.get(payout["id"], []):
            kinds[line["kind"], Decimal(line["amount"])] += 1
        returned = payout["status"] == "rejected"
        expected = Counter({("payout", -amount): 1})
        if returned:
            expected[("payout_return", amount)] = 1
        if kinds != expected:
            findings.violation(
                f"payout {payout['id']} ({payout['status']}, {amount}) has ledger lines "
                f"{sorted((k, str(a), n) for (k, a), n in kinds.items())}"
            )
    for user_id in set(transfers) | set(moved):
        out = sorted(-a for a in transfers.get(user_id, []))
        into = sorted(moved.get(user_id, []))
        if out != into:
            findings.violation(
                f"affiliate {user_id} moved {[str(a) for a in out]} out of commission but got "
                f"{[str(a) for a in into]} into the balance"
            )
    requested = len(payouts)
    if not told["payout done"] <= requested <= told["payout sent"]:
        findings.violation(
            f"{requested} payouts for {told['payout sent']} requests, {told['payout done']} "
            "of them answered done"
        )
    moves = sum(len(amounts) for amounts in moved.values())
    if not told["move done"] <= moves <= told["move sent"]:
        findings.violation(
            f"{moves} moves to the balance for {told['move sent']} requests, "
            f"{told['move done']} of them answered done"
        )
    findings.figures["payouts"] = dict(Counter(p["status"] for p in payouts))
    findings.figures["commission_moves"] = moves


def check_chargebacks(
    *,
    disputes: dict[str, str],
    deposits: dict[str, dict],
    reversals: list[dict],
    commissions: list[dict],
    lines: dict[int, list[dict]],
    findings: Findings,
) -> None:
    """`disputes`: dispute id → session id as the gateway reported them; `deposits`: session id →
    {id}; `reversals`: {deposit_id, kind, external_id}; `commissions`: {id, deposit_id, status,
    amount}; `lines`: commission-ledger lines per commission."""
    by_deposit: dict[int, list[dict]] = defaultdict(list)
    for reversal in reversals:
        by_deposit[reversal["deposit_id"]].append(reversal)
    disputed = set()
    for dispute_id, session_id in disputes.items():
        deposit = deposits.get(session_id)
        if deposit is None:
            findings.violation(f"dispute {dispute_id}: no deposit for session {session_id}")
            continue
        disputed.add(deposit["id"])
        found = by_deposit.get(deposit["id"], [])
        if len(found) != 1 or found[0]["kind"] != "chargeback":
            findings.violation(
                f"dispute {dispute_id} on deposit {deposit['id']}: reversals "
                f"{[(r['kind'], r['external_id']) for r in found]}"
            )
    for deposit_id in set(by_deposit) - disputed:
        findings.violation(f"deposit {deposit_id} was reversed, but no dispute named it")
    for commission in commissions:
        if commission["deposit_id"] not in by_deposit:
            continue
        kinds = Counter(line["kind"] for line in lines.get(commission["id"], []))
        amounts = sum(
            (Decimal(line["amount"]) for line in lines.get(commission["id"], [])), Decimal(0)
        )
        if commission["status"] not in ("reversed", "refused"):
            findings.violation(
                f"commission {commission['id']} on a charged-back deposit is {commission['status']}"
            )
        elif kinds["commission"] != kinds["reversal"] or kinds["commission"] > 1 or amounts:
            findings.violation(
                f"commission {commission['id']} on a charged-back deposit: lines {dict(kinds)}, "
                f"net {amounts}"
            )
    findings.figures["chargebacks"] = len(reversals)


def gather_payouts() -> dict[str, Any]:
    from accounts.models import BalanceTransaction, CommissionTransaction
    from affiliates.models import Payout

    payouts = list(Payout.objects.values("id", "affiliate_id", "status", "amount"))
    lines: dict[int, list[dict]] = defaultdict(list)
    transfers: dict[int, list[Decimal]] = defaultdict(list)
    for line in CommissionTransaction.objects.filter(
        kind__in=["payout", "payout_return", "transfer"]
    ).values("payout_id", "user_id", "kind", "amount"):
        if line["kind"] == "transfer":
            transfers[line["user_id"]].append(line["amount"])
        else:
            lines[line["payout_id"]].append(line)
    moved: dict[int, list[Decimal]] = defaultdict(list)
    for user_id, amount in BalanceTransaction.objects.filter(kind="commission").values_list(
        "user_id", "amount"
    ):
        moved[user_id].append(amount)
    return {"payouts": payouts, "lines": lines, "transfers": transfers, "moved": moved}


def gather_chargebacks() -> dict[str, Any]:
    from accounts.models import CommissionTransaction
    from affiliates.models import Commission
    from payments.models import Deposit, DepositReversal

    deposits = {
        row["external_id"]: row
        for row in Deposit.objects.filter(gateway="stripe").values("id", "external_id")
    }
    reversals = list(DepositReversal.objects.values("deposit_id", "kind", "external_id"))
    commissions = list(Commission.objects.values("id", "deposit_id", "status", "amount"))
    lines: dict[int, list[dict]] = defaultdict(list)
    for line in CommissionTransaction.objects.filter(commission_id__isnull=False).values(
        "commission_id", "kind", "amount"
    ):
        lines[line["commission_id"]].append(line)
    return {
        "deposits": deposits,
        "reversals": reversals,
        "commissions": commissions,
        "lines": lines,
    }
