"""Ids and counts typed by people and scripts: order ids, service ids, quantities, runs.

Only ASCII digits count. Python's int() also takes "1_000", "+1", full-width "１００" and
Arabic-Indic "١": a script that sends those has a bug, and an order for "١" must not quietly
become an order for 1.
"""

import re

MAX_ID = 2**63 - 1  # the largest primary key a database column holds
_WHOLE = re.compile(r"-?[0-9]{1,30}", re.ASCII)


def parse_whole(value: object) -> int | None:
    """A whole number from text (ASCII digits, an optional leading minus, surrounding spaces
    trimmed), or None for anything else."""
    text = str(value).strip() if value is not None else ""
    if not _WHOLE.fullmatch(text):
        return None
    return int(text)


def parse_id(value: object) -> int | None:
    """A positive id from text, or None for anything else (words, zero, negatives, 10**30)."""
    number = parse_whole(value)
    return number if number is not None and 0 < number <= MAX_ID else None
