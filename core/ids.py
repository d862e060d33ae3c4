"""Ids typed by people and scripts: order ids, service ids, category ids in a query string."""

MAX_ID = 2**63 - 1  # the largest primary key a database column holds


def parse_id(value: object) -> int | None:
    """A positive id from text, or None for anything else (words, zero, negatives, 10**30)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None
