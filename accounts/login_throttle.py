"""Failed-login counters in the cache, per client address and per username.

Why cache counters rather than django-axes: the counters already live in the cache (Redis in
production) for the API throttle, they need no tables or authentication backend, and the same
two counters also cover the second step (TOTP codes), which axes does not see. The message is
the same whether or not the username exists, so a lockout reveals no accounts."""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from core.counters import cache_count


def client_address(request: HttpRequest) -> str:
    header = settings.PANEL_REAL_IP_HEADER
    if header and (value := request.META.get(header)):
        return value.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def _keys(request: HttpRequest, username: str) -> list[str]:
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:ip:{client_address(request)}", f"login-fail:user:{name}"]


def is_locked(request: HttpRequest, username: str) -> bool:
    limit = settings.PANEL_LOGIN_FAILURES
    return any((cache.get(key) or 0) >= limit for key in _keys(request, username))


def record_failure(request: HttpRequest, username: str) -> None:
    timeout = settings.PANEL_LOGIN_LOCKOUT_MINUTES * 60
    for key in _keys(request, username):
        cache_count(key, timeout=timeout)
