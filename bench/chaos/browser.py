"""Customers in the browser: they log in through the login form and place orders through the
order form and the mass order form, over HTTP, as a browser does (CSRF token, one-time form
token, the same token again after a dropped connection)."""

import random
import re
import time

import httpx

from bench.chaos.clients import PLACED, REFUSED, Attempt, ClientLog
from bench.chaos.killer import InFlight
from bench.chaos.load import PASSWORD, TRIES, Account, Mode, backoff, host_headers
from bench.chaos.stack import Stack

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
_ALERT = re.compile(r'class="[^"]*(?:error|alert)[^"]*"[^>]*>(.*?)</', re.DOTALL)


class WebCustomer:
    """A customer in the browser: logs in, places orders through the order form and the mass
    order form. A form sent again after a dropped connection carries the same one-time token,
    as a browser's retry does."""

    def __init__(
        self,
        *,
        stack: Stack,
        account: Account,
        number: int,
        mode: Mode,
        services: list[dict],
        log: ClientLog,
        inflight: InFlight,
        rng: random.Random,
        host: str | None = None,
        web_orders: int | None = None,
    ) -> None:
        self.base, self.account, self.number = stack.web_url, account, number
        self.count = web_orders if web_orders is not None else mode.web_orders
        self.mode, self.services, self.log, self.inflight, self.rng = (
            mode,
            services,
            log,
            inflight,
            rng,
        )
        self.http = httpx.Client(base_url=self.base, timeout=30, headers=host_headers(host))

    def run(self) -> None:
        start = time.monotonic()
        count = self.count
        try:
            for index in range(count):
                delay = start + self.mode.place_seconds * index / count - time.monotonic()
                time.sleep(max(delay, 0) + self.rng.uniform(0, 0.5))
                if index % 2:
                    self.mass(index)
                else:
                    self.single(index)
        finally:
            self.http.close()

    def _get_form(self, path: str) -> tuple[str, str] | None:
        """The page's CSRF and one-time form tokens, logging in first when asked to."""
        # With back-off, as every other call: a restart of Redis (the login's throttle) or of
        # the database answers 500 for seconds.
        for tries in range(TRIES):
            try:
                with self.inflight.track("web page"):
                    page = self.http.get(path)
                    if page.status_code == 302 and "/login/" in page.headers.get("location", ""):
                        if not self._login():
                            time.sleep(backoff(tries))
                        continue
            except httpx.TransportError:
                time.sleep(backoff(tries))
                continue
            csrf, token = _CSRF.search(page.text), _FORM_TOKEN.search(page.text)
            if page.status_code == 200 and csrf and token:
                return csrf[1], token[1]
            time.sleep(backoff(tries))
        return None

    def _login(self) -> bool:
        """Whether the login form let the customer in (its answer is a redirect)."""
        page = self.http.get("/login/")
        csrf = _CSRF.search(page.text)
        if csrf is None:
            return False
        answer = self.http.post(
            "/login/",
            data={
                "username": self.account.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": csrf[1],
            },
        )
        return answer.status_code == 302

    def _submit(self, path: str, fields: dict, attempts: list[Attempt], what: str) -> None:
        form = self._get_form(path)
        if form is None:
            for attempt in attempts:
                attempt.outcome, attempt.error = REFUSED, "the form never loaded"
            return
        fields = {**fields, "csrfmiddlewaretoken": form[0], "form_token": form[1]}
        for tries in range(TRIES):
            for attempt in attempts:
                attempt.retried = tries > 0
            try:
                with self.inflight.track(what):
                    answer = self.http.post(path, data=fields)
            except httpx.TransportError as error:
                self.log.count(f"{what}: transport error {type(error).__name__}")
                time.sleep(backoff(tries))
                continue
            self.log.count(f"{what}: HTTP {answer.status_code}")
            if answer.status_code >= 500:
                time.sleep(backoff(tries))
                continue
            placed = answer.status_code == 302
            for attempt in attempts:
                # A mass form answers per line; the order list shows which lines landed, so
                # the checks find the orders by link rather than trust this page.
                attempt.outcome = PLACED if placed or what == "mass form" else REFUSED
                if attempt.outcome == REFUSED:
                    attempt.error = _page_error(answer.text)
            return

    def single(self, index: int) -> None:
        service = self.rng.choice(self.services)
        link = f"https://instagram.com/p/chaos-web-{self.number}-{index}"
        attempt = self.log.add(Attempt(link=link, how="web", user=self.account.username))
        fields = {
            "service": str(service["service"]),
            "link": link,
            "quantity": str(int(service["min"]) * self.rng.randint(1, 2)),
        }
        self._submit(f"/orders/new/?service={service['service']}", fields, [attempt], "order form")

    def mass(self, index: int) -> None:
        lines, attempts = [], []
        for line in range(3):
            service = self.rng.choice(self.services)
            link = f"https://instagram.com/p/chaos-mass-{self.number}-{index}-{line}"
            lines.append(f"{service['service']} | {link} | {service['min']}")
            attempts.append(
                self.log.add(Attempt(link=link, how="mass", user=self.account.username))
            )
        self._submit("/orders/mass/", {"orders": "\n".join(lines)}, attempts, "mass form")


def _page_error(html: str) -> str:
    """The first error a form page shows (its alert), for the report."""
    found = _ALERT.search(html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found[1])).strip()[:120] if found else "?"
