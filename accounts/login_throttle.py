"""Attempt counters in the cache, per client address and per username: logins, TOTP codes,
turning two-factor off, and password-reset mails.

Why cache counters rather than django-axes: the counters already live in the cache (Redis in
production) for the API throttle, they need no tables or authentication backend, and the same
two counters also cover the second step (TOTP codes), which axes does not see. The message is
the same whether or not the username exists, so a lockout reveals no accounts.

An attempt is counted *before* its password or code is checked, with one atomic increment
(core.counters), and given back when it succeeds. Checking first and counting after a failure
let a burst of parallel guesses all pass the check before any of them was counted. The
username is counted under the key of every spelling the login accepts for it
(accounts.usernames), so "ａlice" and "ALICE" spend alice's attempts."""

import hashlib

from django.conf import settings
from django.http import HttpRequest

from accounts.usernames import username_key
from core.counters import cache_count, cache_uncount
from core.tenancy import current_panel_id


def client_address(request: HttpRequest) -> str:
    header = settings.PANEL_REAL_IP_HEADER
    if header and (value := request.META.get(header)):
        return value.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _panel() -> str:
    # A name or an address is an account of one panel only (docs/child-panels.md): guessing
    # alice's password on one child panel must not lock out another panel's alice.
    panel = current_panel_id()
    return "" if panel is None else f"{panel}:"


def _keys(request: HttpRequest, username: str) -> list[str]:
    return [
        f"login-fail:ip:{client_address(request)}",
        f"login-fail:user:{_panel()}{_digest(username_key(username))}",
    ]


def attempt_begin(request: HttpRequest, username: str) -> bool:
    """Count one attempt for this address and username; False when either is past the limit
    (the attempt must then not be checked at all)."""
    limit = settings.PANEL_LOGIN_FAILURES
    timeout = settings.PANEL_LOGIN_LOCKOUT_MINUTES * 60
    counts = [cache_count(key, timeout=timeout) for key in _keys(request, username)]
    return all(count <= limit for count in counts)


def attempt_succeeded(request: HttpRequest, username: str) -> None:
    """The attempt counted by attempt_begin was right: it is not a failure."""
    for key in _keys(request, username):
        cache_uncount(key)


def reset_mail_allowed(request: HttpRequest, email: str) -> bool:
    """Count one password-reset request for this client and address (whether or not an account
    has it, so the answer cannot tell); False past either limit."""
    timeout = settings.PANEL_PASSWORD_RESET_WINDOW_MINUTES * 60
    per_client = cache_count(f"reset-mail:ip:{client_address(request)}", timeout=timeout)
    per_address = cache_count(
        f"reset-mail:to:{_panel()}{_digest(username_key(email))}", timeout=timeout
    )
    return (
        per_client <= settings.PANEL_PASSWORD_RESET_PER_CLIENT
        and per_address <= settings.PANEL_PASSWORD_RESET_PER_ADDRESS
    )
