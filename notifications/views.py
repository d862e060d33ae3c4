from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications.forms import PreferencesForm
from notifications.services import preferences_update


@login_required
@require_POST
def preferences_save(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST)
    if form.is_valid():  # checkboxes: every input is valid, a missing one means off
        kinds = [name.removeprefix("email_") for name, on in form.cleaned_data.items() if on]
        preferences_update(user=request.user, email_kinds=kinds)
        messages.success(request, _("Your email settings are saved."))
    return redirect(reverse("account") + "#notifications")
