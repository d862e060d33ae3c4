"""Bank-transfer webhooks under load: SePay webhooks posted by 16 concurrent senders to
gunicorn on PostgreSQL, a third of them replays of earlier transfers (sent in random order, so
a replay may race its original). Every transfer must be credited exactly once."""

import json
import random
import statistics
import threading
import time
from decimal import Decimal

import httpx

from bench.common import note, report, reset_tables

SEPAY_KEY = "bench-sepay-key"
ACCOUNT = "0011001800879"
SENDERS = 16
CUSTOMERS = 50


def _bodies(total: int, user_ids: list[int]) -> tuple[list[dict], dict[int, Decimal]]:
    """`total` webhook bodies, a third replays; and the VND each user must end up credited."""
    rng = random.Random(9)
    unique = [
        {
            "id": 10_000 + n,
            "gateway": "Vietcombank",
            "transactionDate": "2026-11-30 10:00:00",
            "accountNumber": ACCOUNT,
            "code": None,
            "content": f"MBVCB.{n} NAP{rng.choice(user_ids)} chuyen tien",
            "transferType": "in",
            "transferAmount": rng.choice([50_000, 100_000, 250_000, 1_000_000]),
            "referenceCode": f"FT{n}",
        }
        for n in range(total - total // 3)
    ]
    bodies = unique + [rng.choice(unique) for _ in range(total // 3)]
    rng.shuffle(bodies)
    expected: dict[int, Decimal] = {}
    for body in unique:
        user_id = int(body["content"].split("NAP")[1].split()[0])
        expected[user_id] = expected.get(user_id, Decimal(0)) + Decimal(body["transferAmount"])
    return bodies, expected


def _send(url: str, bodies: list[dict]) -> tuple[list[float], int]:
    latencies: list[float] = []
    failed = [0]
    lock = threading.Lock()
    queue = list(enumerate(bodies))

    def sender() -> None:
        headers = {"Authorization": f"Apikey {SEPAY_KEY}", "Content-Type": "application/json"}
        with httpx.Client(timeout=30, headers=headers) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    _, body = queue.pop()
                start = time.perf_counter()
                answer = http.post(url, content=json.dumps(body))
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    latencies.append(elapsed)
                    failed[0] += answer.status_code != 200

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failed[0]


def run(*, webhooks: int) -> None:
    from django.conf import settings

    from accounts.models import BalanceTransaction, User
    from accounts.selectors import ledger_mismatches
    from payments.models import BankAccount, Deposit, GatewaySettings, Method
    from tests.e2e.processes import VENV_BIN, Process, free_port, wait_until
    from tests.factories import UserFactory

    reset_tables()
    BankAccount.objects.create(bank_bin="970436", account_number=ACCOUNT)
    bank = GatewaySettings(method=Method.BANK, rate=Decimal(25000), transfer_prefix="NAP")
    bank.secrets = {"sepay_api_key": SEPAY_KEY}
    bank.save()
    user_ids = [UserFactory(username=f"payer{n}").pk for n in range(CUSTOMERS)]
    bodies, expected = _bodies(webhooks, user_ids)

    port = free_port()
    db = settings.DATABASES["default"]
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "GUNICORN_WORKERS": "4",
        "GUNICORN_THREADS": "1",
    }
    web = Process(
        [
            str(VENV_BIN / "gunicorn"),
            "panel.wsgi",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
        ],
        env,
        "bench-web",
    )
    try:
        wait_until(lambda: _up(f"http://127.0.0.1:{port}/health/"), timeout=30, what="gunicorn")
        start = time.perf_counter()
        latencies, failed = _send(f"http://127.0.0.1:{port}/payments/webhooks/sepay/", bodies)
        elapsed = time.perf_counter() - start
    finally:
        web.stop()

    unique = webhooks - webhooks // 3
    credits = BalanceTransaction.objects.filter(kind="deposit", deposit_id__isnull=False).count()
    balances = {pk: balance for pk, balance in User.objects.values_list("pk", "balance")}
    exact = (
        failed == 0
        and Deposit.objects.count() == unique == credits
        and all(balances[pk] == vnd / 25000 for pk, vnd in expected.items())
        and ledger_mismatches() == []
    )
    latencies.sort()
    note(
        f"gunicorn 4 sync workers, {SENDERS} senders, {webhooks} webhooks ({webhooks // 3} replays), "
        f"{unique} transfers, {credits} ledger credits, {failed} non-2xx answers"
    )
    report("webhooks_rate_gunicorn", webhooks / elapsed, "webhooks/s")
    report("webhook_latency_median", statistics.median(latencies), "ms")
    report("webhook_latency_p95", latencies[int(len(latencies) * 0.95) - 1], "ms")
    report("webhooks_credited_exactly_once", 1 if exact else 0, "bool")
    if not exact:
        raise SystemExit("webhooks bench: a transfer was not credited exactly once")


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
