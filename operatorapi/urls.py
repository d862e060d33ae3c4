"""/adminapi/v2/… (docs/admin-api.md). `ENDPOINTS` is the one list: the urls, the admin's log
filter and the permission walk in the tests all read it."""

from django.urls import re_path

from operatorapi.api import catalog, orders, people

ROUTES = [
    ("orders", orders.OrderList),
    ("orders/<int:pk>", orders.OrderDetail),
    ("orders/<int:pk>/refill", orders.OrderRefill),
    ("orders/<int:pk>/cancel", orders.OrderCancel),
    ("orders/<int:pk>/resolve", orders.OrderResolve),
    ("orders/<int:pk>/resend", orders.OrderResend),
    ("users", people.UserList),
    ("users/<int:pk>", people.UserDetail),
    ("users/<int:pk>/balance", people.UserBalance),
    ("deposits", people.DepositList),
    ("deposits/<int:pk>/assign", people.DepositAssign),
    ("deposits/<int:pk>/reject", people.DepositReject),
    ("tickets", people.TicketList),
    ("tickets/<int:pk>", people.TicketDetail),
    ("tickets/<int:pk>/reply", people.TicketReply),
    ("tickets/<int:pk>/close", people.TicketClose),
    ("services", catalog.ServiceList),
    ("services/<int:pk>/enable", catalog.ServiceEnable),
    ("services/<int:pk>/disable", catalog.ServiceDisable),
]
ENDPOINTS = [view.endpoint for _, view in ROUTES]

app_name = "operatorapi"


def _pattern(route: str) -> str:
    # Both spellings answer directly: a redirect would turn a client's POST into a GET.
    return "^" + route.replace("<int:pk>", "(?P<pk>[0-9]{1,18})") + "/?$"


urlpatterns = [
    re_path(_pattern(route), view.as_view(), name=view.endpoint.action) for route, view in ROUTES
]
