from django.http import HttpRequest

from support.selectors import staff_unread_ticket_count, unread_ticket_count


def support(request: HttpRequest) -> dict[str, int]:
    """Unread tickets for the navigation: one small count per page for a signed-in user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context = {"support_unread": unread_ticket_count(user=user)}
    if user.is_staff and user.has_perm("support.view_ticket"):
        context["support_staff_unread"] = staff_unread_ticket_count()
    return context
