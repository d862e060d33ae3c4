"""Webhooks to customers: endpoints they register on the API page, one outbox row per event
and endpoint (notifications.models.Notification, channel `webhook`), signed POSTs through the
one HTTP module (`delivery.py`) with its address guard, and the attempts log.

docs/protocol.md (webhooks) is the contract: the body, the signature, the retries."""
