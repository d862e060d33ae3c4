"""Customer support pages: the ticket list, a new ticket, and a ticket's thread."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import form_tokens
from core.errors import PanelError
from support import services
from support.forms import ReplyForm, TicketForm
from support.models import Ticket, TicketStatus
from support.selectors import tickets_for_user

PER_PAGE = 30


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(tickets_for_user(user=request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "support/ticket_list.html", {"page": page})


def _open_once(request: HttpRequest, form: TicketForm) -> Ticket:
    """Open the ticket under the form's one-time token: a double submit opens one ticket."""
    token = request.POST.get(form_tokens.FIELD)
    with transaction.atomic():
        form_tokens.form_submission_claim(user=request.user, token=token)
        ticket = services.ticket_open(user=request.user, **form.cleaned_data)
        url = reverse("ticket_detail", args=[ticket.pk])
        form_tokens.form_submission_record(user=request.user, token=token, result_url=url)
    return ticket


@login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    initial = {"kind": request.GET.get("kind", ""), "order_ids": request.GET.get("order", "")[:20]}
    form = TicketForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = _open_once(request, form)
        except form_tokens.AlreadySubmitted as done:
            return redirect(done.result_url or reverse("ticket_list"))
        except services.TicketFieldError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except PanelError as exc:  # an expired form token
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your ticket was sent. We answer here and by email."))
            return redirect("ticket_detail", pk=ticket.pk)
    return render(request, "support/ticket_new.html", {"form": form})


@login_required
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk, user=request.user)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.ticket_reply(ticket=ticket, user=request.user, body=form.cleaned_data["body"])
        except PanelError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("ticket_detail", pk=ticket.pk)
    services.ticket_mark_read(ticket=ticket, by_staff=False)
    context = {
        "ticket": ticket,
        "thread": ticket.messages.all(),
        "orders": ticket.orders.order_by("pk").values_list("pk", flat=True),
        "form": form,
        "is_closed": ticket.status == TicketStatus.CLOSED,
    }
    return render(request, "support/ticket_detail.html", context)


@login_required
@require_POST
def ticket_close(request: HttpRequest, pk: int) -> HttpResponse:
    if services.ticket_close(ticket_id=pk, user=request.user):
        messages.success(request, _("The ticket is closed."))
    return redirect("ticket_detail", pk=pk)


@login_required
@require_POST
def ticket_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    if services.ticket_reopen(ticket_id=pk, user=request.user):
        messages.success(request, _("The ticket is open again."))
    return redirect("ticket_detail", pk=pk)
