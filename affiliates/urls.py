from django.urls import path

from affiliates import views

urlpatterns = [
    path("affiliates/", views.affiliates_page, name="affiliates"),
    path("affiliates/move/", views.commission_move, name="commission_move"),
    path("affiliates/payout/", views.payout_request, name="payout_request"),
    path("r/<str:code>/", views.referral_visit, name="referral_visit"),
]
