from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from notifications.forms import PreferencesForm
from notifications.selectors import telegram_bot_active, telegram_link_of
from notifications.services import preferences_update, telegram_link_code_new, telegram_unlink


@login_required
@require_POST
def preferences_save(request: AuthenticatedRequest) -> HttpResponse:
    form = PreferencesForm(request.POST)
    if form.is_valid():  # checkboxes: every input is valid, a missing one means off
        on = [name for name, value in form.cleaned_data.items() if value]
        preferences_update(
            user=request.user,
            email_kinds=[name.removeprefix("email_") for name in on if name.startswith("email_")],
            telegram_kinds=[
                name.removeprefix("telegram_") for name in on if name.startswith("telegram_")
            ],
        )
        messages.success(request, _("Your notification settings are saved."))
    return redirect(reverse("account") + "#notifications")


@login_required
@require_POST
def telegram_link_start(request: AuthenticatedRequest) -> HttpResponse:
    """A new one-time code (and t.me link) for linking the bot; shown on the account page."""
    if telegram_bot_active() is None:
        messages.error(request, _("The Telegram bot is not available right now."))
    else:
        telegram_link_code_new(user=request.user)
    return redirect(reverse("account") + "#telegram")


@login_required
@require_POST
def telegram_link_remove(request: AuthenticatedRequest) -> HttpResponse:
    link = telegram_link_of(user=request.user)
    was_linked = bool(link and link.chat_id)
    telegram_unlink(user=request.user)
    if was_linked:
        messages.success(
            request, _("Telegram unlinked: the bot no longer answers for your account.")
        )
    return redirect(reverse("account") + "#telegram")
