"""The URLs of a child panel's host (the host middleware sets them as the request's urlconf):
the parent's pages, with the child panel's own admin at /admin/ instead of the parent's."""

from django.urls import URLPattern, URLResolver, path

from accounts.auth_views import PanelLoginView
from panel import urls as parent
from panel.child_panels.owner_admin import site


def _is_admin(pattern: object) -> bool:
    return isinstance(pattern, URLPattern | URLResolver) and str(pattern.pattern).startswith(
        "admin/"
    )


urlpatterns = [
    *(pattern for pattern in parent.urlpatterns if not _is_admin(pattern)),
    # Its own admin logs in through the same throttled, two-step login, on its own panel.
    path("admin/login/", PanelLoginView.as_view(), name="admin_login"),
    path("admin/", site.urls),
]

handler400 = parent.handler400
handler403 = parent.handler403
handler404 = parent.handler404
handler500 = parent.handler500
