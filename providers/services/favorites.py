"""Customers' favorite services (a star on the services page and the order form)."""

from providers.models import FavoriteService, Service


def favorite_set(*, user_id: int, service_id: int, is_favorite: bool) -> bool:
    """Star or unstar a service for a user; returns whether it is a favorite now.

    Idempotent: starring twice keeps one row (the unique key settles a double click's race),
    unstarring what is not starred does nothing. A service off sale cannot be starred (one
    starred before can still be unstarred)."""
    if not is_favorite:
        FavoriteService.objects.filter(user_id=user_id, service_id=service_id).delete()
        return False
    if not Service.objects.on_sale().filter(pk=service_id).exists():
        return False
    FavoriteService.objects.bulk_create(
        [FavoriteService(user_id=user_id, service_id=service_id)], ignore_conflicts=True
    )
    return True
