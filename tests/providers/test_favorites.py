"""Favorite services: a star per service, kept per user, toggled idempotently by a POST."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from providers.models import FavoriteService
from providers.selectors import favorite_service_ids, service_rows
from providers.services import favorite_set
from tests.factories import ServiceFactory


def test_favorite_set_is_idempotent_both_ways(customer: User) -> None:
    service = ServiceFactory()

    assert favorite_set(user_id=customer.pk, service_id=service.pk, is_favorite=True)
    assert favorite_set(user_id=customer.pk, service_id=service.pk, is_favorite=True)
    assert FavoriteService.objects.filter(user=customer).count() == 1
    assert not favorite_set(user_id=customer.pk, service_id=service.pk, is_favorite=False)
    assert not favorite_set(user_id=customer.pk, service_id=service.pk, is_favorite=False)
    assert not FavoriteService.objects.exists()


def test_favorites_are_kept_per_user(customer: User, reseller: User) -> None:
    mine, theirs = ServiceFactory(), ServiceFactory()
    favorite_set(user_id=customer.pk, service_id=mine.pk, is_favorite=True)
    favorite_set(user_id=reseller.pk, service_id=theirs.pk, is_favorite=True)

    assert favorite_service_ids(user_id=customer.pk) == {mine.pk}
    assert [row["id"] for row in service_rows(favorites_of=customer.pk)] == [mine.pk]
    assert [row["id"] for row in service_rows(favorites_of=reseller.pk)] == [theirs.pk]


def test_a_service_off_sale_cannot_be_starred(customer: User) -> None:
    service = ServiceFactory(is_enabled=False)

    assert not favorite_set(user_id=customer.pk, service_id=service.pk, is_favorite=True)
    assert not FavoriteService.objects.exists()


def test_the_star_posts_without_javascript_and_comes_back(client: Client, customer: User) -> None:
    service = ServiceFactory()
    client.force_login(customer)
    url = reverse("service_favorite", args=[service.pk])

    response = client.post(url, {"favorite": "1", "next": "/services/?platform=instagram"})
    again = client.post(url, {"favorite": "1", "next": "https://evil.example/"})

    assert response.status_code == 302 and response["Location"] == "/services/?platform=instagram"
    assert again["Location"] == reverse("services")  # never sent to another site
    assert FavoriteService.objects.filter(user=customer, service=service).count() == 1
    page = client.get(reverse("services"), {"favorites": "1"}).content.decode()
    assert service.name in page


def test_the_star_answers_a_script_with_json(client: Client, customer: User) -> None:
    service = ServiceFactory()
    client.force_login(customer)

    answer = client.post(
        reverse("service_favorite", args=[service.pk]),
        {"favorite": "0"},
        headers={"accept": "application/json"},
    )

    assert answer.json() == {"service": service.pk, "favorite": False}


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_star_needs_a_login_and_a_post(client: Client, method: str, db: None) -> None:
    service = ServiceFactory()

    response = getattr(client, method)(reverse("service_favorite", args=[service.pk]))

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_star_refuses_a_post_without_the_csrf_token(customer: User) -> None:
    service = ServiceFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)

    response = client.post(reverse("service_favorite", args=[service.pk]), {"favorite": "1"})

    assert response.status_code == 403 and not FavoriteService.objects.exists()


def test_other_customers_do_not_see_my_favorites(
    client: Client, customer: User, reseller: User
) -> None:
    service = ServiceFactory(name="My secret favourite")
    favorite_set(user_id=customer.pk, service_id=service.pk, is_favorite=True)
    client.force_login(reseller)

    page = client.get(reverse("services"), {"favorites": "1"}).content.decode()
    form = client.get(reverse("order_new"), {"favorites": "1"}).content.decode()

    assert "My secret favourite" not in page and "My secret favourite" not in form
