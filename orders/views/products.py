"""Product orders: place one from the product list, and the list of them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from core.errors import error_display
from orders import services
from orders.errors import PanelError
from orders.models import Source
from orders.selectors import (
    product_orders_for_user,
)
from orders.views.common import charged_text, paginate


@login_required
@require_POST
def product_order_new(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        with transaction.atomic():
            order = services.product_order_place(
                user=request.user,
                product_id=pk,
                quantity=request.POST.get("quantity", ""),
                require=request.POST.get("require"),
                source=Source.WEB,
            )
    except PanelError as exc:
        messages.error(
            request,
            gettext("Product #%(id)s: %(error)s") % {"id": pk, "error": error_display(exc)},
        )
    else:
        messages.success(
            request,
            gettext("Product order #%(id)s placed: charged %(amount)s")
            % {"id": order.pk, "amount": charged_text(order.charge)},
        )
        return redirect("product_order_list")
    return redirect(f"{reverse('product_list')}#product-{pk}")


@login_required
def product_order_list(request: AuthenticatedRequest) -> HttpResponse:
    page = paginate(request, product_orders_for_user(user=request.user))
    rows = [
        {
            "order": order,
            "charge": order.net_charge,
            "refunded": order.refunded if order.refunded else None,
        }
        for order in page.object_list
    ]
    return render(request, "orders/product_order_list.html", {"page": page, "rows": rows})
