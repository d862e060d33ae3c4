"""A customer in the Telegram bot under chaos, against a fake Bot API on loopback
(tests/bot/fake_bot_api.py): each order is a conversation (the service's button, the link, the
quantity) ended by a double tap of *Place order*: two updates with the button's one-time token at
once. Updates are posted to the run's gunicorn as Telegram posts them, sent again with the same
`update_id` until a 2xx. A step whose answer does not come (a worker killed with the update, the
conversation's state lost with Redis) abandons that order, as a customer gives up and starts
again; checks/telegram.py holds the rest to account."""

import itertools
import random
import threading
import time

import httpx

from bench.chaos.clients import Attempt, ClientLog
from bench.chaos.killer import InFlight
from bench.chaos.load import CUSTOMER_BALANCE, Account, Mode
from bench.chaos.stack import Stack
from tests.bot.fake_bot_api import FakeBotApi

SECRET = "chaos-telegram-webhook-secret-0123456789"  # noqa: S105 - a throwaway stack's
CHAT = 7770001
# A step whose answer takes longer is given up: the update's task waits behind the forwards
# and polls in the workers' queue, seconds under load.
ANSWER_SECONDS = 30
QUIET_SECONDS = 0.5  # and answered once nothing more came for this long
TRIES = 7  # Telegram sends an update again until it gets a 2xx
_REPLIES = ("sendMessage", "editMessageText", "sendPhoto")


def telegram_provision(api: FakeBotApi) -> Account:
    """The bot (enabled, its webhook secret) and a customer whose chat is linked to it."""
    from accounts.services import user_create_customer
    from notifications.models import TelegramBot
    from notifications.services import telegram_link_claim, telegram_link_code_new

    bot = TelegramBot(
        username="chaos_test_bot",
        webhook_secret=SECRET,
        site_url="https://panel.example",
        is_enabled=True,
    )
    bot.token = "123456:CHAOS-token"  # noqa: S105 - the fake Bot API takes any
    bot.save()
    user = user_create_customer(
        username="chaos-telegram", email="chaos-telegram@example.com", balance=CUSTOMER_BALANCE
    )
    code = telegram_link_code_new(user=user).code
    if telegram_link_claim(code=code, chat_id=CHAT, name="Chaos") != user:
        raise RuntimeError("the chaos chat did not link")
    return Account(user.username, "", user.pk)


class TelegramCustomer:
    """The linked chat's customer: `mode.telegram_orders` orders over the run, each placed by a
    double tap."""

    def __init__(
        self,
        *,
        stack: Stack,
        api: FakeBotApi,
        account: Account,
        mode: Mode,
        services: list[dict],
        log: ClientLog,
        inflight: InFlight,
        rng: random.Random,
    ) -> None:
        self.url = f"{stack.web_url}/telegram/webhook/{SECRET}/"
        self.api, self.account, self.mode, self.services = api, account, mode, services
        self.log, self.inflight, self.rng = log, inflight, rng
        self.ids = itertools.count(1)
        self.posted: list[int] = []  # every update_id sent (some more than once)

    def run(self) -> None:
        start = time.monotonic()
        count = self.mode.telegram_orders
        with httpx.Client(timeout=30) as http:
            for index in range(count):
                delay = start + self.mode.place_seconds * index / count - time.monotonic()
                time.sleep(max(delay, 0) + self.rng.uniform(0, 0.5))
                self.order(http, index)

    def order(self, http: httpx.Client, index: int) -> None:
        service = self.rng.choice([s for s in self.services if s["type"] == "Default"])
        link = f"https://instagram.com/p/chaos-telegram-{index}"
        attempt = self.log.add(Attempt(link=link, how="telegram", user=self.account.username))
        steps = [
            ("tap", f"v:{service['service']}"),
            ("message", link),
            ("message", str(int(service["min"]))),
        ]
        for kind, text in steps:
            if not self.say(http, kind, text):
                attempt.error = f"no answer to {text!r}"
                self.log.count("telegram: a step went unanswered")
                # Ends the conversation, so a late answer of this one is not taken for the next.
                self.say(http, "message", "/cancel")
                return
        place = self._place_button()
        if place is None:
            attempt.error = "no Place order button"
            self.log.count("telegram: no place button")
            self.say(http, "message", "/cancel")
            return
        # The double tap: both updates at once, the button's one-time token in each.
        taps = [threading.Thread(target=self.post, args=(http, self._tap(place))) for _ in "ab"]
        for tap in taps:
            tap.start()
        for tap in taps:
            tap.join()
        self.log.count("telegram: double tap")

    def say(self, http: httpx.Client, kind: str, text: str) -> bool:
        """Send one update and wait for the bot's answer to the chat."""
        before = len(self._replies())
        update = self._tap(text) if kind == "tap" else self._message(text)
        if not self.post(http, update):
            return False
        # Answered once the bot has said something and a worker has taken this update: a tap
        # may be answered in two messages, and the next message must not overtake them (two
        # workers may take two updates at once).
        deadline = time.monotonic() + ANSWER_SECONDS
        while time.monotonic() < deadline:
            now = len(self._replies())
            if now > before and _handled(update["update_id"]):
                time.sleep(QUIET_SECONDS)  # a worker marks an update taken before it answers
                if len(self._replies()) == now:
                    return True
            time.sleep(0.1)
        return False

    def post(self, http: httpx.Client, update: dict) -> bool:
        self.posted.append(update["update_id"])
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for tries in range(TRIES):
            try:
                with self.inflight.track("telegram update"):
                    answer = http.post(self.url, json=update, headers=headers)
            except httpx.TransportError:
                self.log.count("telegram update: transport error")
                time.sleep(0.5 * 2 ** min(tries, 4))
                continue
            self.log.count(f"telegram update: HTTP {answer.status_code}")
            if answer.status_code < 300:
                return True
            time.sleep(0.5 * 2 ** min(tries, 4))
        return False

    def _replies(self) -> list[dict]:
        return [call for call in self.api.sent() if call["method"] in _REPLIES]

    def _place_button(self) -> str | None:
        try:
            return self.api.button("p:")
        except AssertionError:
            return None

    def _message(self, text: str) -> dict:
        sender = {"id": CHAT, "first_name": "Chaos", "language_code": "en"}
        return {
            "update_id": next(self.ids),
            "message": {
                "message_id": 1,
                "from": sender,
                "chat": {"id": CHAT, "type": "private"},
                "text": text,
            },
        }

    def _tap(self, data: str) -> dict:
        update_id = next(self.ids)
        return {
            "update_id": update_id,
            "callback_query": {
                "id": f"cb{update_id}",
                "from": {"id": CHAT, "first_name": "Chaos"},
                "message": {"message_id": 2, "chat": {"id": CHAT, "type": "private"}},
                "data": data,
            },
        }


def _handled(update_id: int) -> bool:
    """Whether a worker has taken this update (another one, lost with a killed worker, may wait
    minutes for the sweep: it does not hold this conversation up)."""
    from django.db import DatabaseError, connection

    from bot.models import BotUpdate

    try:
        return BotUpdate.objects.filter(update_id=update_id, handled_at__isnull=False).exists()
    except DatabaseError:
        connection.close()
        return False
