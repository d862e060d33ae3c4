from django.urls import path

from orders import views
from orders.views.live import order_live
from orders.views.provider_hooks import provider_webhook

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/live.json", order_live, name="order_live"),
    path("orders/new/", views.order_new, name="order_new"),
    path("orders/new/services.json", views.order_service_options, name="order_service_options"),
    path("orders/mass/", views.order_mass, name="order_mass"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/refill/", views.order_refill, name="order_refill"),
    path("orders/<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
    path("refills/", views.refill_list, name="refill_list"),
    path("products/<int:pk>/order/", views.product_order_new, name="product_order_new"),
    path("products/orders/", views.product_order_list, name="product_order_list"),
    path("hooks/provider/<int:provider_id>/", provider_webhook, name="provider_webhook"),
]
