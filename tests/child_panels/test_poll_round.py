"""A poll round visits every provider, a thousand child panels' among them: a provider with
nothing due of a kind costs one indexed count, no threads and no connections of its own."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ChildPanel
from orders.services.polling import ORDERS, REFILLS, poll
from providers.models import Provider

pytestmark = pytest.mark.django_db


def test_a_provider_with_nothing_due_costs_one_count(child: ChildPanel) -> None:
    provider = Provider.objects.get(child_panel=child)
    threads = threading.active_count()
    for spec in (ORDERS, REFILLS):
        with CaptureQueriesContext(connection) as seen:
            counts = poll(spec, provider)
        assert counts.polled == 0
        assert len(seen.captured_queries) == 1, [q["sql"] for q in seen.captured_queries]
    assert threading.active_count() == threads
