"""Lists: filters by creation time and the usual columns, pages of up to 1,000 rows.

Rows come newest first by id. A page is asked for by `limit` and either `cursor` (the
`next_cursor` of the previous page: stable while new rows arrive, and cheap at any depth) or
`offset` (what Perfect Panel's tools send; rows created meanwhile shift it)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db.models import Model, QuerySet
from django.utils.dateparse import parse_datetime
from rest_framework.request import Request

from core.ids import parse_id
from operatorapi.api.base import ApiError

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_OFFSET = 100_000


def bad(parameter: str, why: str) -> ApiError:
    return ApiError(400, "invalid_parameter", f"{parameter}: {why}")


def _whole(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise bad(name, f"a whole number from {low} to {high}")
    return int(raw)


def when(request: Request, name: str) -> datetime | None:
    """Unix seconds or ISO 8601 (UTC when no offset is given)."""
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if raw.isdigit() and len(raw) <= 12:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    try:
        moment = parse_datetime(raw)
    except ValueError:
        moment = None
    if moment is None:
        raise bad(name, "Unix seconds or an ISO 8601 time")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def ids(request: Request, name: str) -> list[int] | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    parsed = [parse_id(part) for part in raw.split(",") if part.strip()]
    if not parsed or None in parsed or len(parsed) > MAX_LIMIT:
        raise bad(name, f"ids separated by commas, at most {MAX_LIMIT}")
    return [pk for pk in parsed if pk is not None]


def choices(request: Request, name: str, allowed: list[str]) -> list[str] | None:
    """Comma-separated values, each matched without regard to case ("in progress")."""
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    by_lower = {value.lower(): value for value in allowed}
    wanted = [part.strip().lower() for part in raw.split(",") if part.strip()]
    if not wanted or any(part not in by_lower for part in wanted):
        raise bad(name, "one or more of " + ", ".join(allowed))
    return [by_lower[part] for part in wanted]


def flag(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name, "").strip().lower()
    if not raw:
        return None
    if raw not in ("0", "1", "true", "false"):
        raise bad(name, "1 or 0")
    return raw in ("1", "true")


def created_between(request: Request, rows: QuerySet, field: str = "created_at") -> QuerySet:
    if (start := when(request, "created_from")) is not None:
        rows = rows.filter(**{f"{field}__gte": start})
    if (end := when(request, "created_to")) is not None:
        rows = rows.filter(**{f"{field}__lt": end})
    return rows


def page(
    request: Request, rows: QuerySet, shape: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    """One page of `rows` as `{"data": [...], "pagination": {...}}`."""
    limit = _whole(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _whole(request, "offset", 0, 0, MAX_OFFSET)
    cursor_raw = request.query_params.get("cursor", "").strip()
    rows = rows.order_by("-pk")
    if cursor_raw:
        cursor = parse_id(cursor_raw)
        if cursor is None:
            raise bad("cursor", "the next_cursor of the previous page")
        rows = rows.filter(pk__lt=cursor)
        offset = 0
    found: list[Model] = list(rows[offset : offset + limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return {
        "data": [shape(row) for row in found],
        "pagination": {
            "limit": limit,
            "count": len(found),
            "next_cursor": str(found[-1].pk) if more and found else None,
        },
    }
