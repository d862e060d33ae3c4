"""One spelling per name: what sign-up stores, what login compares and what the lockout counts.

NFKC folds the compatibility forms ("ａlice", "𝐚lice", "alicᵉ") into "alice", as Django's
login form already did before the lookup; casefold then makes "ALICE" the same name. The
database enforces the case-insensitive half with a unique index on Lower(username)
(accounts.User.Meta), so two racing sign-ups cannot both keep a name."""

import unicodedata


def username_normalize(name: str) -> str:
    """The spelling stored and shown: NFKC, surrounding spaces removed, case kept."""
    return unicodedata.normalize("NFKC", name).strip()


def username_key(name: str) -> str:
    """The identity of a name: every spelling the login accepts for one account gives one key."""
    # NFKC again after casefold: folding can leave text that is not in NFKC form.
    return unicodedata.normalize("NFKC", username_normalize(name).casefold())
