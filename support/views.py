"""Customer support pages: the ticket list, a new ticket, and a ticket's thread."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

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


@login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    initial = {"kind": request.GET.get("kind", ""), "order_ids": request.GET.get("order", "")[:20]}
    form = TicketForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_open(user=request.user, **form.cleaned_data)
        except services.TicketFieldError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
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
