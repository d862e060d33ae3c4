"""The notification boxes of the account page (email choices, the Telegram bot). Tags, because
the account page belongs to accounts, which sits below notifications and cannot import it."""

from django import template
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext

from accounts.models import User
from notifications.forms import PreferencesForm
from notifications.models import EMAIL_KINDS
from notifications.selectors import telegram_bot_active, telegram_link_of
from notifications.services import preferences_for

register = template.Library()


def _linked(user: User) -> bool:
    link = telegram_link_of(user=user)
    return bool(link and link.chat_id and telegram_bot_active())


@register.inclusion_tag("notifications/_preferences.html", takes_context=True)
def notification_preferences(context: template.Context, user: User) -> dict:
    form = PreferencesForm(instance=preferences_for(user=user))
    for kind in EMAIL_KINDS:  # the column header says it to the eye; this, to a screen reader
        label = gettext("%(kind)s: in Telegram instead of email") % {
            "kind": capfirst(form.fields[f"email_{kind}"].label)
        }
        form.fields[f"telegram_{kind}"].widget.attrs["aria-label"] = label
    rows = [(form[f"email_{kind}"], form[f"telegram_{kind}"]) for kind in EMAIL_KINDS]
    return {"rows": rows, "telegram": _linked(user), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("notifications/_telegram.html", takes_context=True)
def telegram_section(context: template.Context, user: User) -> dict:
    # The bot is the parent's: a child panel's customer would be told about it (and linked to
    # the parent's name) on a panel that is not the parent's (docs/child-panels.md).
    bot = telegram_bot_active() if user.child_panel_id is None else None
    link = telegram_link_of(user=user) if bot else None
    code = ""
    if link and not link.chat_id and link.code_expires_at and link.code_expires_at > timezone.now():
        code = link.code
    return {
        "bot": bot,
        "link": link if link and link.chat_id else None,
        "code": code,
        "expires_at": link.code_expires_at if code and link else None,
        "deep_link": f"https://t.me/{bot.username}?start={code}" if bot and code else "",
        "csrf_token": context.get("csrf_token"),
    }
