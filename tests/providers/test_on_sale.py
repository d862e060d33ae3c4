""" "On sale" is one queryset method, and every place that offers a service asks it."""

from orders.admin_forms import AdminOrderForm
from providers.models import Provider, Service


def test_on_sale_needs_the_admin_the_upstream_and_the_provider(catalog: Provider) -> None:
    # given
    held, gone, kept = Service.objects.order_by("pk")[:3]
    Service.objects.filter(pk=held.pk).update(is_enabled=False)
    Service.objects.filter(pk=gone.pk).update(is_available=False)

    # when
    on_sale = set(Service.objects.on_sale().values_list("pk", flat=True))

    # then
    assert kept.pk in on_sale
    assert held.pk not in on_sale
    assert gone.pk not in on_sale

    Provider.objects.filter(pk=catalog.pk).update(is_enabled=False)
    assert not Service.objects.on_sale().exists()


def test_the_admin_order_form_offers_no_service_of_a_disabled_provider(
    catalog: Provider,
) -> None:
    # given: every service is enabled and available, but its provider is switched off
    Provider.objects.filter(pk=catalog.pk).update(is_enabled=False)

    # when
    offered = AdminOrderForm().fields["service"].queryset  # type: ignore[attr-defined]

    # then
    assert not offered.exists()
