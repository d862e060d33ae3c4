"""The request a signed-in view receives. `login_required` (and the admin) guarantee a real
`accounts.User` on it; this class only says so to the type checker, Django never builds it."""

from django.http import HttpRequest

from accounts.models import User


class AuthenticatedRequest(HttpRequest):
    user: User
