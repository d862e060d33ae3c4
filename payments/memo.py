"""The per-user transfer memo: the prefix and the user's id (`NAP1042`), uppercase ASCII with no
spaces, so every bank app keeps it intact. Banks add their own words around it, so it is
searched for anywhere in the transfer text, case-insensitively."""

import re


def memo_for(*, prefix: str, user_id: int) -> str:
    return f"{prefix.upper()}{user_id}"


def user_id_in(text: str, *, prefix: str) -> int | None:
    """The user id the memo names, or None. A letter or digit right before the prefix is
    allowed (banks glue words), a digit right after the id is part of the id."""
    if not prefix:
        return None
    match = re.search(rf"{re.escape(prefix)}(\d{{1,12}})(?!\d)", text, flags=re.IGNORECASE)
    return int(match.group(1)) if match else None
