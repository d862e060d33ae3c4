"""The email preferences box of the account page. A tag, because the account page belongs to
accounts, which sits below notifications and cannot import it."""

from django import template

from accounts.models import User
from notifications.forms import PreferencesForm
from notifications.services import preferences_for

register = template.Library()


@register.inclusion_tag("notifications/_preferences.html", takes_context=True)
def notification_preferences(context: template.Context, user: User) -> dict:
    return {
        "form": PreferencesForm(instance=preferences_for(user=user)),
        "csrf_token": context.get("csrf_token"),
    }
