from django.urls import path

from payments import views

urlpatterns = [
    path("add-funds/", views.add_funds, name="add_funds"),
    path("add-funds/status/", views.deposit_status, name="deposit_status"),
    path("add-funds/bank-coupon/", views.bank_coupon, name="bank_coupon"),
    path("add-funds/qr/<str:key>.png", views.deposit_qr_png, name="deposit_qr_png"),
    path("add-funds/<str:method>/start/", views.start_payment, name="start_payment"),
    path("deposits/", views.deposit_list, name="deposit_list"),
    path("payments/webhooks/<str:gateway>/", views.webhook, name="payment_webhook"),
]
