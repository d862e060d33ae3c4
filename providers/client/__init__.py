"""The upstream client: the only code in the panel that makes HTTP calls to providers.

    client = ProviderClient(api_url="https://provider.example/api/v2", api_key=key)
    order_id = client.add(service="308", fields={"link": link, "quantity": "1000"})

Answers come back as typed values (Decimal money, str ids); failures as the classes in
providers.errors, each asking the caller for a different reaction.
"""

from providers.client.api import MAX_BATCH, CatalogAnswer, ProviderClient
from providers.client.entries import MISSING_FROM_ANSWER
from providers.client.types import (
    ItemError,
    UpstreamBalance,
    UpstreamOrderStatus,
    UpstreamProduct,
    UpstreamProductOrderStatus,
    UpstreamService,
)

__all__ = [
    "MAX_BATCH",
    "MISSING_FROM_ANSWER",
    "CatalogAnswer",
    "ItemError",
    "ProviderClient",
    "UpstreamBalance",
    "UpstreamOrderStatus",
    "UpstreamProduct",
    "UpstreamProductOrderStatus",
    "UpstreamService",
]
