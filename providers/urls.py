from django.urls import path

from providers import views

urlpatterns = [
    path("services/", views.services, name="services"),
    path("services/<int:service_id>/favorite/", views.service_favorite, name="service_favorite"),
    path("updates/", views.updates, name="updates"),
    path("products/", views.product_list, name="product_list"),
]
