from django.http import HttpRequest

from core.tenancy import current_panel_id
from support.selectors import staff_unread_ticket_count, unread_ticket_count


def support(request: HttpRequest) -> dict[str, int]:
    """Unread tickets for the navigation: one small count per page for a signed-in user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context = {"support_unread": unread_ticket_count(user=user)}
    if user.is_staff and user.has_perm("support.view_ticket"):
        # A child panel's staff count their own panel's tickets; the parent's, every panel's.
        context["support_staff_unread"] = staff_unread_ticket_count(
            child_panel_id=current_panel_id()
        )
    return context
