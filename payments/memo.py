"""The per-user transfer memo: the prefix and the user's id (`NAP1042`), uppercase ASCII with no
spaces, so every bank app keeps it intact. Banks add their own words around it, so it is
searched for anywhere in the transfer text, case-insensitively, but only as a word of its own:
"nap" is Vietnamese for "top up", and "nap500k NAP8" must not read as customer 500."""

import re

# Neither side of a token may touch a letter or digit (of any script): a character that is
# not a word character, or is the underscore, bounds it.
_BOUND_BEFORE = r"(?<![^\W_])"
_BOUND_AFTER = r"(?![^\W_])"


def memo_for(*, prefix: str, user_id: int) -> str:
    return f"{prefix.upper()}{user_id}"


def user_ids_in(text: str, *, prefix: str) -> set[int]:
    """Every user id a memo token in `text` names (the same one written twice counts once)."""
    if not prefix:
        return set()
    pattern = rf"{_BOUND_BEFORE}{re.escape(prefix)}(\d{{1,12}}){_BOUND_AFTER}"
    return {int(found) for found in re.findall(pattern, text, flags=re.IGNORECASE)}
