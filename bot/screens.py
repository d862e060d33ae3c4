"""What the bot shows: the menu, the balance, orders, the catalog, the transfer details. Reads
only; every write is in bot.actions. Texts are rendered in the chat's language (the caller
activates it) from the same catalog as the pages."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils.translation import get_language, gettext, pgettext

from accounts.form_tokens import form_token_new
from accounts.models import User
from bot.selectors import bot_categories, bot_category_platform, bot_service, bot_services
from core.money import money_text
from notifications.models import TelegramBot
from notifications.telegram import MAX_CALLBACK_DATA, Keyboard
from orders.errors import IncorrectOrder
from orders.models import STATUS_NAMES, Order
from orders.selectors import orders_for_user, waiting_cancel_order_ids
from orders.services import can_cancel, can_refill, own_order
from payments.config import gateway_config
from payments.memo import memo_for
from payments.models import Method
from payments.vietqr import build_payload, qr_png
from providers.models import PACKAGE_TYPES
from providers.pricing import customer_pricing
from providers.views import category_name, platform_badge

ORDERS_PER_PAGE = 5
ITEMS_PER_PAGE = 8
BUTTON_TEXT = 60


@dataclass
class Reply:
    text: str
    keyboard: Keyboard | None = None
    photo: bytes | None = None


@dataclass
class Chat:
    chat_id: int
    bot: TelegramBot
    user: User | None
    language: str
    name: str = ""
    replies: list[Reply] = field(default_factory=list)
    notice: str = ""  # the short text on a tapped button's answer

    def say(self, text: str, keyboard: Keyboard | None = None) -> None:
        self.replies.append(Reply(text, keyboard))


def button(text: str, data: str) -> dict[str, str]:
    if len(data.encode()) > MAX_CALLBACK_DATA:  # Telegram would refuse the whole message
        raise ValueError(f"callback data over {MAX_CALLBACK_DATA} bytes: {data[:20]}…")
    if len(text) > BUTTON_TEXT:
        text = text[: BUTTON_TEXT - 1] + "…"
    return {"text": text, "callback_data": data}


def menu_row() -> list[dict[str, str]]:
    return [button("☰ " + gettext("Menu"), "m")]


def money(amount: Decimal) -> str:
    return money_text(amount, currency=settings.PANEL_CURRENCY, language=get_language())


def site_link(chat: Chat, name: str, *args: object) -> str:
    return chat.bot.site_url.rstrip("/") + reverse(name, args=args) if chat.bot.site_url else ""


def not_linked(chat: Chat) -> None:
    url = site_link(chat, "account")
    text = gettext(
        "This chat is not linked to an account yet. On your account page, press “Link Telegram” "
        "and open the link it gives."
    )
    chat.say(f"{text}\n{url}".strip())


def menu(chat: Chat, user: User, intro: str = "") -> None:
    text = intro or gettext("Hello %(name)s! What would you like to do?") % {"name": user.username}
    chat.say(
        text,
        [
            [
                button("💰 " + gettext("Balance"), "b"),
                button("📋 " + gettext("Recent orders"), "o:0"),
            ],
            [
                button("🛒 " + gettext("New order"), "n:0"),
                button("🏦 " + gettext("Add funds"), "f"),
            ],
            [button("💬 " + gettext("Open a ticket"), "t")],
        ],
    )


def balance(chat: Chat, user: User) -> None:
    user.refresh_from_db(fields=["balance"])
    chat.say(
        gettext("Your balance: %(amount)s") % {"amount": money(user.balance)},
        [[button("🏦 " + gettext("Add funds"), "f")], menu_row()],
    )


def _order_line(order: Order) -> str:
    return f"#{order.pk} · {order.service.display_name[:40]} · {STATUS_NAMES.get(order.status, order.status)}"


def recent_orders(chat: Chat, user: User, page: int) -> None:
    page = max(page, 0)
    start = page * ORDERS_PER_PAGE
    orders = list(orders_for_user(user=user)[start : start + ORDERS_PER_PAGE + 1])
    more, orders = len(orders) > ORDERS_PER_PAGE, orders[:ORDERS_PER_PAGE]
    if not orders:
        chat.say(
            gettext("You have no orders yet."),
            [[button("🛒 " + gettext("New order"), "n:0")], menu_row()],
        )
        return
    lines = [gettext("Your orders:")] + [_order_line(order) for order in orders]
    keyboard = [[button(f"#{order.pk}", f"s:{order.pk}") for order in orders]]
    keyboard.append(_pager("o", page, more))
    keyboard.append(menu_row())
    chat.say("\n".join(lines), [row for row in keyboard if row])


def _pager(prefix: str, page: int, more: bool) -> list[dict[str, str]]:
    row = []
    if page > 0:
        row.append(button("‹ " + gettext("Previous"), f"{prefix}:{page - 1}"))
    if more:
        row.append(button(gettext("Next") + " ›", f"{prefix}:{page + 1}"))
    return row


def order_status(chat: Chat, user: User, order_id: object) -> None:
    try:
        order = own_order(user=user, order_id=order_id)
    except IncorrectOrder:
        chat.say(gettext("Incorrect order ID"), [menu_row()])
        return
    waiting = order.pk in waiting_cancel_order_ids(user=user, order_ids=[order.pk])
    lines = [
        gettext("Order #%(id)s") % {"id": order.pk},
        f"{gettext('Service')}: {order.service.display_name}",
        f"{gettext('Link')}: {order.link}" if order.link else "",
        f"{gettext('Quantity')}: {order.quantity}",
        f"{gettext('Status')}: {STATUS_NAMES.get(order.status, order.status)}",
        f"{gettext('Charge')}: {money(order.net_charge)}",
        f"{gettext('Remains')}: {order.remains}" if order.remains is not None else "",
        gettext("Cancel requested: waiting for the provider.") if waiting else "",
    ]
    actions = []
    if can_refill(order=order):
        actions.append(button("🔁 " + gettext("Refill"), f"r:{order.pk}:{form_token_new()}"))
    if can_cancel(order=order) and not waiting:
        actions.append(button("✖ " + pgettext("verb", "Cancel"), f"c:{order.pk}"))
    keyboard = [actions] if actions else []
    keyboard += [[button("‹ " + gettext("Recent orders"), "o:0")], menu_row()]
    chat.say("\n".join(line for line in lines if line), keyboard)


def cancel_confirm(chat: Chat, user: User, order_id: object) -> None:
    try:
        order = own_order(user=user, order_id=order_id)
    except IncorrectOrder:
        chat.say(gettext("Incorrect order ID"), [menu_row()])
        return
    chat.say(
        gettext("Cancel order #%(id)s?") % {"id": order.pk},
        [
            [
                button(gettext("Yes, cancel it"), f"x:{order.pk}:{form_token_new()}"),
                button(gettext("No"), f"s:{order.pk}"),
            ]
        ],
    )


def platforms(chat: Chat) -> None:
    """The first step of a new order, as on the order page: the platform (Facebook, TikTok …),
    in the pages' order with how many services each has. With one platform on sale, its
    categories at once."""
    counts: dict[str, int] = {}
    for row in bot_categories():
        counts[row["platform"]] = counts.get(row["platform"], 0) + row["count"]
    if len(counts) <= 1:
        categories(chat, "", 0)
        return
    buttons = [
        button(f"{platform_badge(value)['label']} ({count})", f"l:{value}:0")
        for value, count in counts.items()
    ]
    keyboard = [buttons[index : index + 2] for index in range(0, len(buttons), 2)]
    keyboard.append(menu_row())
    chat.say(gettext("New order: choose a platform."), keyboard)


def categories(chat: Chat, platform: str, page: int) -> None:
    """One platform's categories (every category when `platform` is empty), paged."""
    everything = bot_categories()
    several_platforms = len({row["platform"] for row in everything}) > 1
    rows = [row for row in everything if not platform or row["platform"] == platform]
    page = max(page, 0)
    shown = rows[page * ITEMS_PER_PAGE : (page + 1) * ITEMS_PER_PAGE]
    back = [button("‹ " + gettext("Platforms"), "n:0")] if several_platforms else menu_row()
    if not shown:
        chat.say(gettext("No services found"), [back])
        return
    keyboard = [
        [
            button(
                f"{category_name(row, get_language())} ({row['count']})",
                f"g:{row['category_id']}:0",
            )
        ]
        for row in shown
    ]
    keyboard.append(_pager(f"l:{platform}", page, len(rows) > (page + 1) * ITEMS_PER_PAGE))
    keyboard.append(back)
    if platform:
        text = gettext("New order, %(platform)s: choose a category.") % {
            "platform": platform_badge(platform)["label"]
        }
    else:
        text = gettext("New order: choose a category.")
    chat.say(text, [row for row in keyboard if row])


def services(chat: Chat, user: User, category_id: int, page: int) -> None:
    page = max(page, 0)
    start = page * ITEMS_PER_PAGE
    rows = list(bot_services(category_id=category_id)[start : start + ITEMS_PER_PAGE + 1])
    more, rows = len(rows) > ITEMS_PER_PAGE, rows[:ITEMS_PER_PAGE]
    back = button(
        "‹ " + gettext("Categories"), f"l:{bot_category_platform(category_id=category_id)}:0"
    )
    if not rows:
        chat.say(gettext("No services found"), [[back]])
        return
    pricing = customer_pricing(user=user, service_ids=[row["id"] for row in rows])
    keyboard = []
    for row in rows:
        rate = money(pricing.service_rate(service_id=row["id"], rate=row["rate"]))
        name = row["name_override"] or row["name"]
        keyboard.append([button(f"#{row['id']} {name} · {rate}", f"v:{row['id']}")])
    pager = []
    if page > 0:
        pager.append(button("‹ " + gettext("Previous"), f"g:{category_id}:{page - 1}"))
    if more:
        pager.append(button(gettext("Next") + " ›", f"g:{category_id}:{page + 1}"))
    keyboard += [pager, [back]]
    chat.say(
        gettext("Choose a service (the price is per 1000, or per package)."),
        [row for row in keyboard if row],
    )


def service_intro(user: User, service_id: int) -> tuple[dict, str] | None:
    """The service as the conversation introduces it, or None when it is not on sale."""
    row = bot_service(service_id=service_id)
    if row is None:
        return None
    pricing = customer_pricing(user=user, service_ids=[row["id"]])
    rate = money(pricing.service_rate(service_id=row["id"], rate=row["rate"]))
    per = gettext("per package") if row["type"] in PACKAGE_TYPES else gettext("per 1000")
    lines = [
        f"#{row['id']} {row['name_override'] or row['name']}",
        f"{gettext('Rate')}: {rate} {per}",
    ]
    if row["type"] not in PACKAGE_TYPES:
        lines.append(gettext("Min %(min)s · max %(max)s") % {"min": row["min"], "max": row["max"]})
    return row, "\n".join(lines)


def add_funds(chat: Chat, user: User) -> None:
    config = gateway_config(method=Method.BANK)
    url = site_link(chat, "add_funds")
    if not config.is_offered:
        text = gettext("Add funds on the website:")
        chat.say(f"{text}\n{url}".strip(), [menu_row()])
        return
    memo = memo_for(prefix=config.transfer_prefix, user_id=user.pk)
    # The first account (the page's first tab); the website shows the others.
    account = config.bank_accounts[0]
    payload = build_payload(
        bank_bin=account.bank_bin, account=account.number, amount=None, memo=memo
    )
    lines = [
        gettext("Bank transfer (VietQR)"),
        f"{gettext('Bank')}: {account.bank.short_name if account.bank else account.bank_bin}",
        f"{gettext('Account number')}: {account.number}",
        f"{gettext('Account holder')}: {account.holder}" if account.holder else "",
        f"{gettext('Transfer content')}: {memo}",
        "",
        gettext(
            "Scan the code with your banking app, or transfer by hand. Keep the transfer content "
            "exactly as shown: it tells us the money is yours. Your balance updates by itself "
            "within a minute of the transfer."
        ),
    ]
    chat.replies.append(
        Reply("\n".join(line for line in lines if line is not None), [menu_row()], qr_png(payload))
    )
