"""Customer emails, rendered from one translatable template per kind in the customer's own
language (the same catalog as the pages)."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from core.tenancy import panel_scope
from notifications.models import Kind, Notification


def user_language(user: User) -> str:
    return user.preferred_language


# The page each customer email is about: its URL name and the payload key of its argument.
_PAGES: dict[str, tuple[str, str | None]] = {
    Kind.ORDER_FINAL: ("order_detail", "order_id"),
    Kind.REFILL_FINAL: ("order_detail", "order_id"),
    Kind.TICKET_ANSWERED: ("ticket_detail", "ticket_id"),
    Kind.DEPOSIT_CREDITED: ("balance_history", None),
    Kind.RANK_PROMOTED: ("dashboard", None),
}


def panel_address(user: User) -> str:
    """Where the customer's own panel is: a child panel's customer has an account on its
    domain only (docs/child-panels.md), so a link to the parent would open nobody's page.
    The parent's is PANEL_PUBLIC_URL, empty while it is not set (docs/configuration.md)."""
    if (child := user.child_panel) is not None:
        # Child panels are served over HTTPS only (Caddy's on-demand TLS, docs/operations.md).
        return f"https://{child.domain}"
    return settings.PANEL_PUBLIC_URL.rstrip("/")


def panel_currency_of(user: User) -> str:
    """What the customer's balance and prices are in: his child panel's currency (fixed when it
    was made, docs/child-panels.md), else the parent's."""
    child = user.child_panel
    return (child.currency if child is not None else "") or settings.PANEL_CURRENCY


def page_link(row: Notification, user: User) -> str:
    """The absolute address of the page the email is about, on the customer's own panel."""
    base = panel_address(user)
    page = _PAGES.get(row.kind)
    if not base or page is None:
        return ""
    name, key = page
    if key is None:
        return base + reverse(name)
    value = row.payload.get(key)
    return base + reverse(name, args=[value]) if isinstance(value, int) else ""


def email_message(row: Notification, user: User) -> EmailMessage:
    context = {
        **row.payload,
        "user": user,
        "panel_name": user.panel_name,
        "currency": panel_currency_of(user),
        "link": page_link(row, user),
    }
    # Rendered as the customer's panel (core.tenancy), as his pages are.
    scope = panel_scope(user.child_panel_id, currency=panel_currency_of(user))
    with scope, translation.override(user_language(user)):
        subject = render_to_string(f"notifications/email/{row.kind}_subject.txt", context)
        body = render_to_string(f"notifications/email/{row.kind}.txt", context)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body.strip() + "\n",
        from_email=user.mail_from,
        to=[user.email],
    )


def staff_email_message(row: Notification, recipients: list[str]) -> EmailMessage:
    """An operator alert (notifications.services.staff_alert), written by its caller in the
    panel's language (PANEL_LANGUAGE), to every staff address at once."""
    return EmailMessage(
        subject=f"[{settings.PANEL_NAME}] {row.payload.get('subject', row.kind)}",
        body=str(row.payload.get("body", "")).strip() + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )


def telegram_text(row: Notification, user: User) -> str:
    """A customer row as their Telegram chat gets it: the email's news without the letter
    around it, in their language (the same catalog entries)."""
    context = {
        **row.payload,
        "panel_name": user.panel_name,
        "currency": panel_currency_of(user),
        "link": page_link(row, user),
    }
    with translation.override(user_language(user)):
        return render_to_string(f"notifications/telegram/{row.kind}.txt", context).strip()
