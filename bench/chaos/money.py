"""Money moving during the run: bank transfers reported by SePay and Casso (replayed, and
raced: both reporters at once, or one report twice at once), Stripe Checkout sessions paid and
their events replayed, some of them disputed afterwards (chargebacks), the affiliates' settle
pass run alongside beat's, and the affiliate taking his commission out: moves to his balance
and payout requests through his pages, decided by an admin twice at once. The payloads and
signatures are tests/payments/senders.py's, posted over HTTP to the run's gunicorn."""

import json
import random
import re
import threading
import time
from decimal import Decimal

import httpx

from bench.chaos.clients import ClientLog
from bench.chaos.killer import InFlight
from bench.chaos.load import PASSWORD, Account, Mode
from bench.chaos.stack import Stack
from tests.payments.senders import (
    SEPAY_KEY,
    STRIPE_WEBHOOK_SECRET,
    casso_body,
    casso_signature,
    sepay_body,
    stripe_signature,
)

VND_AMOUNTS = (50_000, 100_000, 250_000, 500_000)
CARD_AMOUNTS = (Decimal(10), Decimal(25), Decimal(40))
# A gateway sends a webhook again until it gets a 2xx (Stripe for days): here with back-off,
# 1 s doubling to 8 s, about a minute in all, longer than the database's crash recovery.
TRIES = 10
DISPUTE_SHARE = 0.4  # of the paid card sessions, disputed by the payer's bank afterwards
MOVE_AMOUNT = Decimal("0.05")  # commission the affiliate moves to his balance at a time
PAYOUT_AMOUNT = Decimal("0.10")  # and asks to be paid out at a time (PANEL_AFFILIATE_MIN_PAYOUT)
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def payers_provision(customers: list[Account], count: int) -> list[int]:
    """Customers who pay by bank transfer: the web customers, and as many more referred by the
    first reseller's affiliate account, so their deposits earn commissions."""
    from accounts.services import user_create_customer
    from affiliates.models import Referral
    from affiliates.services import affiliate_ensure

    referrer = customers[0].user_id
    affiliate_ensure(user_id=referrer)
    referred = []
    for number in range(count):
        user = user_create_customer(
            username=f"chaos-payer-{number}", email=f"chaos-payer-{number}@example.com"
        )
        Referral.objects.create(referred=user, referrer_id=referrer)
        referred.append(user.pk)
    return [account.user_id for account in customers[1:]] + referred


def stripe_provision(user_ids: list[int], count: int, rng: random.Random) -> list[dict]:
    """The Stripe gateway and `count` started Checkout sessions: the deposits the start view
    makes (deposit_start, then the session's id attached), the gateway's own call left out."""
    from accounts.models import User
    from payments.config import gateway_config
    from payments.models import GatewaySettings, Method
    from payments.services import deposit_attach_external, deposit_start

    row = GatewaySettings(method=Method.STRIPE, currency="USD", rate=Decimal(1))
    row.secrets = {"secret_key": "sk_test_chaos", "webhook_secret": STRIPE_WEBHOOK_SECRET}
    row.save()
    config = gateway_config(method="stripe")
    sessions = []
    for number in range(count):
        user = User.objects.get(pk=rng.choice(user_ids))
        amount = rng.choice(CARD_AMOUNTS)
        deposit = deposit_start(user=user, gateway="stripe", config=config, amount=amount)
        session_id = f"cs_chaos_{number}"
        deposit_attach_external(deposit_id=deposit.pk, external_id=session_id)
        sessions.append(
            {"id": session_id, "reference": str(deposit.reference), "amount": str(amount)}
        )
    return sessions


class Payments:
    """The gateways' side: each payment reported until the panel answers 2xx, some twice at
    once, some again later (replays), some by both bank reporters."""

    def __init__(
        self,
        *,
        stack: Stack,
        mode: Mode,
        payers: list[int],
        sessions: list[dict],
        log: ClientLog,
        inflight: InFlight,
        rng: random.Random,
    ) -> None:
        self.url = f"{stack.web_url}/payments/webhooks"
        self.mode, self.payers, self.sessions = mode, payers, sessions
        self.log, self.inflight, self.rng = log, inflight, rng

    def run(self) -> None:
        events = [("transfer", n) for n in range(self.mode.transfers)]
        events += [("card", n) for n in range(len(self.sessions))]
        self.rng.shuffle(events)
        start = time.monotonic()
        replays: list[tuple[str, int]] = []
        for index, event in enumerate(events):
            delay = start + self.mode.place_seconds * index / len(events) - time.monotonic()
            time.sleep(max(delay, 0))
            self.deliver(event)
            if self.rng.random() < 0.3:
                replays.append(event)
        for event in replays:
            self.deliver(event, replay=True)
        # The payer's bank disputes some card payments once they are credited: a dispute event,
        # sometimes twice at once, and replayed.
        for number, session in enumerate(self.sessions):
            if session.get("paid") and self.rng.random() < DISPUTE_SHARE:
                self._dispute(number)

    def deliver(self, event: tuple[str, int], *, replay: bool = False) -> None:
        kind, number = event
        senders = self._transfer(number, replay) if kind == "transfer" else self._card(number)
        threads = [threading.Thread(target=send) for send in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _transfer(self, number: int, replay: bool) -> list:
        rng = random.Random(number)  # a replay is the same transfer, byte for byte
        user_id, amount = rng.choice(self.payers), rng.choice(VND_AMOUNTS)
        memo = f"MBVCB.{number} NAP{user_id} chuyen tien"
        sepay = sepay_body(transfer_id=90_000 + number, amount=amount, content=memo)
        sepay["referenceCode"] = f"FT{number}"
        casso = casso_body(transfer_id=80_000 + number, amount=amount, description=memo)
        casso["data"]["reference"] = f"FT{number}"
        casso["data"]["transactionDateTime"] = sepay["transactionDate"]
        with self.log.lock:
            self.log.transfers[f"FT{number}"] = {"user_id": user_id, "vnd": amount}
        senders = [lambda: self._sepay(sepay)]
        if replay or rng.random() < 0.4:  # both reporters, at once
            senders.append(lambda: self._casso(casso))
        if rng.random() < 0.3:  # one reporter twice at once
            senders.append(lambda: self._sepay(sepay))
        return senders

    def _card(self, number: int) -> list:
        session = self.sessions[number]
        event = {
            "id": f"evt_chaos_{number}",
            "object": "event",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": session["id"],
                    "object": "checkout.session",
                    "client_reference_id": session["reference"],
                    "amount_total": int(Decimal(session["amount"]) * 100),
                    "currency": "usd",
                    "payment_status": "paid",
                    "payment_intent": f"pi_chaos_{number}",
                }
            },
        }
        with self.log.lock:
            self.log.card_sessions[session["id"]] = session

        def send() -> None:
            if self._stripe(event):
                session["paid"] = True

        return [send, send] if self.rng.random() < 0.3 else [send]

    def _dispute(self, number: int) -> None:
        session = self.sessions[number]
        dispute_id = f"dp_chaos_{number}"
        event = {
            "id": f"evt_chaos_dispute_{number}",
            "object": "event",
            "type": "charge.dispute.created",
            "data": {
                "object": {
                    "id": dispute_id,
                    "object": "dispute",
                    "payment_intent": f"pi_chaos_{number}",
                    "amount": int(Decimal(session["amount"]) * 100),
                    "currency": "usd",
                }
            },
        }
        with self.log.lock:
            self.log.disputes[dispute_id] = session["id"]
        senders = [lambda: self._stripe(event)] * (2 if self.rng.random() < 0.3 else 1)
        threads = [threading.Thread(target=send) for send in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.rng.random() < 0.3:
            self._stripe(event)  # replayed later

    def _post(self, what: str, path: str, body: str, headers: dict[str, str]) -> bool:
        """Until a 2xx, TRIES times at most; whether one came."""
        for tries in range(TRIES):
            try:
                with self.inflight.track(what):
                    answer = httpx.post(
                        f"{self.url}/{path}/", content=body, headers=headers, timeout=30
                    )
            except httpx.TransportError as error:
                self.log.count(f"{what}: transport error {type(error).__name__}")
                time.sleep(min(2**tries, 8))
                continue
            self.log.count(f"{what}: HTTP {answer.status_code}")
            if answer.status_code < 300:
                return True
            time.sleep(min(2**tries, 8))
        self.log.count(f"{what}: given up")
        return False

    def _sepay(self, body: dict) -> None:
        headers = {"Authorization": f"Apikey {SEPAY_KEY}", "Content-Type": "application/json"}
        self._post("sepay webhook", "sepay", json.dumps(body), headers)

    def _casso(self, body: dict) -> None:
        text = json.dumps(body, ensure_ascii=False)
        headers = {"X-Casso-Signature": casso_signature(body), "Content-Type": "application/json"}
        self._post("casso webhook", "casso", text, headers)

    def _stripe(self, event: dict) -> bool:
        payload = json.dumps(event)
        headers = {
            "Stripe-Signature": stripe_signature(payload),
            "Content-Type": "application/json",
        }
        return self._post("stripe webhook", "stripe", payload, headers)


def settle_loop(stop: threading.Event, log: ClientLog, inflight: InFlight) -> None:
    """The affiliates' settle pass, as `manage.py affiliate_settle` runs it, every few seconds
    alongside beat's: two passes at once take turns on their lock. While it runs it is "in
    flight" (an aimed kill crashes the database then)."""
    from django.db import DatabaseError, connection

    from affiliates.services import affiliate_settle

    while not stop.wait(4):
        try:
            with inflight.track("settle pass"):
                affiliate_settle()
            log.count("affiliate settle: done")
        except DatabaseError:
            log.count("affiliate settle: database error")
            connection.close()
    connection.close()


class Affiliate:
    """The referring customer takes his commission out through his pages, as it settles: a
    move of MOVE_AMOUNT to his balance, then a payout request of PAYOUT_AMOUNT, `count` times
    over the run. Each form is sent once (they carry no one-time token: sending one again
    after a dropped connection could move or ask twice, so a person looks first); what it was
    answered is counted ("move done", "payout sent", …) for check_payouts."""

    def __init__(
        self, *, stack: Stack, account: Account, mode: Mode, log: ClientLog, inflight: InFlight
    ) -> None:
        self.account, self.mode, self.log, self.inflight = account, mode, log, inflight
        self.http = httpx.Client(base_url=stack.web_url, timeout=30)

    def run(self) -> None:
        start = time.monotonic()
        try:
            for index in range(self.mode.payouts):
                delay = start + self.mode.place_seconds * (index + 1) / self.mode.payouts
                time.sleep(max(delay - time.monotonic(), 0))
                self._send("move", "/affiliates/move/", {"amount": str(MOVE_AMOUNT)})
                self._send(
                    "payout",
                    "/affiliates/payout/",
                    {"amount": str(PAYOUT_AMOUNT), "details": "Vietcombank 0123456789"},
                )
        finally:
            self.http.close()

    def _csrf(self) -> str | None:
        for _ in range(5):
            try:
                page = self.http.get("/affiliates/")
                if page.status_code == 302:
                    login = self.http.get("/login/")
                    token = _CSRF.search(login.text)
                    if token:
                        self.http.post(
                            "/login/",
                            data={
                                "username": self.account.username,
                                "password": PASSWORD,
                                "csrfmiddlewaretoken": token[1],
                            },
                        )
                    continue
                found = _CSRF.search(page.text)
                if page.status_code == 200 and found:
                    return found[1]
            except httpx.TransportError:
                pass
            time.sleep(1)
        return None

    def _send(self, what: str, path: str, fields: dict[str, str]) -> None:
        csrf = self._csrf()
        if csrf is None:
            return
        self.log.count(f"{what} sent")
        try:
            with self.inflight.track(what):
                answer = self.http.post(path, data={**fields, "csrfmiddlewaretoken": csrf})
        except httpx.TransportError:
            self.log.count(f"{what}: no answer")
            return
        # Done: back to the affiliates page; refused (not enough commission yet): the form
        # again with its error; a 5xx: unknown, as no answer.
        self.log.count(
            f"{what} done" if answer.status_code == 302 else f"{what}: HTTP {answer.status_code}"
        )


def payout_decider(stop: threading.Event, log: ClientLog, rng: random.Random) -> None:
    """An admin deciding the requested payouts, each from two places at once (two tabs, two
    admins): paid or rejected, one of them wins and the other is told it was already decided."""
    from django.db import DatabaseError, connection

    from accounts.models import User
    from affiliates.models import Payout
    from affiliates.services import payout_decide
    from core.errors import InvalidTransition

    admin = User.objects.create_superuser(username="chaos-admin", email="admin@example.com")

    def decide(payout_id: int, paid: bool) -> None:
        try:
            payout_decide(payout_id=payout_id, paid=paid, reason="chaos: rejected", admin=admin)
            log.count("payout decide: done")
        except InvalidTransition:
            log.count("payout decide: already decided")
        except DatabaseError:
            log.count("payout decide: database error")
        finally:
            connection.close()

    while not stop.wait(3):
        try:
            waiting = list(
                Payout.objects.filter(status=Payout.Status.REQUESTED).values_list("pk", flat=True)
            )
        except DatabaseError:
            connection.close()
            continue
        for payout_id in waiting:
            paid = rng.random() < 0.5
            twins = [threading.Thread(target=decide, args=(payout_id, paid)) for _ in range(2)]
            for thread in twins:
                thread.start()
            for thread in twins:
                thread.join()
    connection.close()
