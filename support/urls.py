from django.urls import path

from support import views

urlpatterns = [
    path("support/", views.ticket_list, name="ticket_list"),
    path("support/new/", views.ticket_new, name="ticket_new"),
    path("support/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("support/<int:pk>/close/", views.ticket_close, name="ticket_close"),
    path("support/<int:pk>/reopen/", views.ticket_reopen, name="ticket_reopen"),
]
