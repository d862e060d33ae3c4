from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import translation

from orders.models import Order
from reconciliation.models import Mismatch, MismatchStatus, ProviderDay
from tests.factories import UserFactory
from tests.reconciliation.conftest import Books


@pytest.fixture
def day(books: Books, sent_order: Callable[..., Order]) -> ProviderDay:
    books.open()
    order = sent_order()
    books.plant(order, extra_charge="0.5")
    books.force(order, "Completed")
    books.poll()
    books.close()
    return books.reconcile()


def _staff(client: Client, *codenames: str) -> Client:
    user = UserFactory(username=f"staff_{'_'.join(codenames) or 'none'}", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


def _page(day: ProviderDay) -> str:
    return reverse("admin:reconciliation_providerday_change", args=[day.pk])


def _resolve(day: ProviderDay, flag: Mismatch) -> str:
    return reverse("admin:reconciliation_providerday_resolve", args=[day.pk, flag.pk])


def test_staff_without_the_permission_see_no_books(client: Client, day: ProviderDay) -> None:
    staff = _staff(client)
    assert staff.get(reverse("admin:reconciliation_providerday_changelist")).status_code == 403
    assert staff.get(_page(day)).status_code == 403
    assert staff.get(reverse("admin:reconciliation_mismatch_changelist")).status_code == 403


def test_a_viewer_sees_the_day_with_its_orders_but_resolves_nothing(
    client: Client, day: ProviderDay
) -> None:
    viewer = _staff(client, "view_reconciliation")
    listing = viewer.get(reverse("admin:reconciliation_providerday_changelist"))
    assert listing.status_code == 200
    assert listing.content.decode().count("1 to resolve") == 1  # the state, in one column
    page = viewer.get(_page(day))
    assert page.status_code == 200
    flag = day.mismatches.get()
    text = page.content.decode()
    assert f"order {flag.order_id}" in text
    assert "Bought today (charges expected)" in text
    assert 'name="m' not in text  # no resolve form
    response = viewer.post(_resolve(day, flag), {f"m{flag.pk}-to_status": "claimed"})
    assert response.status_code == 403
    flag.refresh_from_db()
    assert flag.status == MismatchStatus.OPEN


def test_a_resolver_claims_and_a_write_off_without_a_note_is_refused(
    client: Client, day: ProviderDay
) -> None:
    resolver = _staff(client, "view_reconciliation", "resolve_reconciliation")
    flag = day.mismatches.get()
    assert f'name="m{flag.pk}-to_status"' in resolver.get(_page(day)).content.decode()

    response = resolver.post(_resolve(day, flag), {f"m{flag.pk}-to_status": "claimed"})
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.status == MismatchStatus.CLAIMED

    response = resolver.post(_resolve(day, flag), {f"m{flag.pk}-to_status": "written_off"})
    assert response.status_code == 200
    assert "Say why in the note." in response.content.decode()
    flag.refresh_from_db()
    assert flag.status == MismatchStatus.CLAIMED

    response = resolver.post(
        _resolve(day, flag),
        {f"m{flag.pk}-to_status": "written_off", f"m{flag.pk}-note": "provider closed"},
    )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.status == MismatchStatus.WRITTEN_OFF


def test_the_day_reads_in_vietnamese(client: Client, day: ProviderDay) -> None:
    viewer = _staff(client, "view_reconciliation")
    viewer.cookies["django_language"] = "vi"
    # The language middleware leaves the request's language active in this thread: the
    # override puts the test's own back afterwards.
    with translation.override("en"):
        text = viewer.get(_page(day)).content.decode()
    assert "Tiền trừ dự kiến" in text
