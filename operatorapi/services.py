"""Every write of the operator API's own rows: staff keys, the call log, idempotency records.

What a call does to orders, balances, deposits, tickets and services is the owning app's
service (operatorapi.api.endpoints calls them), never a copy here."""

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts import keys
from accounts.models import User
from accounts.two_factor import lacks_required_two_factor
from core.errors import InvalidRequest
from operatorapi.models import ApiCall, IdempotencyRecord, Scope, StaffApiKey

IDEMPOTENCY_TTL = timedelta(days=1)
_LAST_USED_RESOLUTION = timedelta(minutes=1)


class KeyNotAllowed(InvalidRequest):
    default_message = gettext_noop("Only a superuser creates keys for another staff user.")


class OwnerWithoutTwoFactor(InvalidRequest):
    default_message = gettext_noop(
        "The owner must turn on two-factor authentication first: a key acts as its owner."
    )


class InvalidNetwork(InvalidRequest):
    def __init__(self, item: str) -> None:
        super().__init__(f"Not an address or network: {item}")
        self.item = item


# --- Keys --------------------------------------------------------------------------------------


def parse_networks(text: str | list[str]) -> list[str]:
    """CIDR networks (or single addresses) from lines, commas or a list, normalized; raises
    InvalidRequest naming the first one that is not an address or network."""
    items = text if isinstance(text, list) else text.replace(",", "\n").splitlines()
    networks = []
    for item in (item.strip() for item in items):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise InvalidNetwork(item[:60]) from None
    return list(dict.fromkeys(networks))


def staff_api_key_create(
    *,
    owner: User,
    created_by: User,
    name: str,
    scopes: list[str] | None = None,
    allowed_networks: list[str] | None = None,
) -> tuple[StaffApiKey, str]:
    """A new key for a staff user; returns the row and the key, which is stored nowhere: show
    it once. Staff create keys for themselves only, a superuser for any staff user; with
    PANEL_STAFF_2FA, for an owner with two-factor on only (nothing is written otherwise)."""
    if not owner.is_active or not owner.is_staff:
        raise InvalidRequest(gettext_noop("Keys are for active staff users only."))
    if lacks_required_two_factor(owner):
        raise OwnerWithoutTwoFactor()
    if owner.pk != created_by.pk and not created_by.is_superuser:
        raise KeyNotAllowed()
    name = name.strip()
    if not name:
        raise InvalidRequest(gettext_noop("Give the key a name."))
    chosen = list(dict.fromkeys(scopes or []))
    if any(scope not in Scope.values for scope in chosen):
        # The names a key may carry are listed in docs/admin-api.md; the message is a catalog entry.
        raise InvalidRequest(gettext_noop("Unknown scope: see the list of scopes."))
    key = keys.generate_key(keys.STAFF_KEY_PREFIX)
    row = StaffApiKey.objects.create(
        user=owner,
        name=name[:100],
        prefix=keys.lookup_prefix(key),
        digest=keys.key_digest(key),
        scopes=sorted(chosen),
        allowed_networks=parse_networks(allowed_networks or []),
        created_by=created_by,
    )
    return row, key


def staff_api_key_revoke(*, key_id: int) -> bool:
    return bool(
        StaffApiKey.objects.filter(pk=key_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def staff_api_key_authenticate(*, key: str) -> StaffApiKey | None:
    """The active key `key` names, with its owner read now (so a deactivated owner or one whose
    permissions changed is seen at once), or None. Constant-time on the secret part."""
    key = key.strip()
    if not keys.is_well_formed(key, keys.STAFF_KEY_PREFIX):
        return None
    found = (
        StaffApiKey.objects.select_related("user")
        .filter(prefix=keys.lookup_prefix(key), revoked_at__isnull=True)
        .first()
    )
    if found is None or not keys.digest_matches(key, found.digest):
        return None
    now = timezone.now()
    if found.last_used_at is None or now - found.last_used_at > _LAST_USED_RESOLUTION:
        StaffApiKey.objects.filter(pk=found.pk).update(last_used_at=now)
    return found


# --- The log -----------------------------------------------------------------------------------


def api_call_record(
    *,
    key_id: int,
    address: str,
    method: str,
    action: str,
    object_id: str,
    status_code: int,
    error_code: str = "",
    replayed: bool = False,
) -> ApiCall:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        address = ""
    return ApiCall.objects.create(
        key_id=key_id,
        address=address or None,
        method=method[:8],
        action=action[:32],
        object_id=object_id[:64],
        status_code=status_code,
        error_code=error_code[:32],
        replayed=replayed,
    )


# --- Idempotency -------------------------------------------------------------------------------


class Claim(Enum):
    NEW = "new"  # this request acts; finish or abandon the record afterwards
    REPLAY = "replay"  # answered before: send the stored answer
    MISMATCH = "mismatch"  # the same Idempotency-Key with another request
    RUNNING = "running"  # the first request with this key has not answered yet


@dataclass(frozen=True)
class IdempotencyClaim:
    outcome: Claim
    record: IdempotencyRecord


def idempotency_claim(
    *, key_id: int, idempotency_key: str, request_digest: str, now: datetime | None = None
) -> IdempotencyClaim:
    """Claim (key, Idempotency-Key) for one request, committed before the request acts, so a
    concurrent repeat sees it. A record older than a day counts as gone."""
    now = now or timezone.now()
    IdempotencyRecord.objects.filter(
        key_id=key_id, idempotency_key=idempotency_key, created_at__lt=now - IDEMPOTENCY_TTL
    ).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                key_id=key_id, idempotency_key=idempotency_key, request_digest=request_digest
            )
        return IdempotencyClaim(Claim.NEW, record)
    except IntegrityError:
        record = IdempotencyRecord.objects.get(key_id=key_id, idempotency_key=idempotency_key)
    if record.request_digest != request_digest:
        return IdempotencyClaim(Claim.MISMATCH, record)
    if record.status_code is None:
        return IdempotencyClaim(Claim.RUNNING, record)
    return IdempotencyClaim(Claim.REPLAY, record)


def idempotency_finish(*, record_id: int, status_code: int, body: object) -> None:
    IdempotencyRecord.objects.filter(pk=record_id).update(status_code=status_code, body=body)


def idempotency_abandon(*, record_id: int) -> None:
    """The request failed before it could answer and changed nothing (its transaction rolled
    back): the same Idempotency-Key may try again."""
    IdempotencyRecord.objects.filter(pk=record_id, status_code__isnull=True).delete()


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - IDEMPOTENCY_TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
