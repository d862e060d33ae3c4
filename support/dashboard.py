"""What support puts on the admin dashboard (panel.dashboard.hooks finds this module)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from support.models import Ticket, TicketStatus


def hands() -> list[dict]:
    """Tickets waiting for an answer."""
    return [
        {
            "label": _("Open tickets"),
            "count": Ticket.objects.filter(status=TicketStatus.OPEN).count(),
            "url": reverse("admin:support_ticket_changelist") + "?status__exact=open",
        }
    ]
