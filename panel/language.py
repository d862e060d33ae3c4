"""The language of each request: the user's choice, else the visitor's cookie, else PANEL_LANGUAGE.

Django's LocaleMiddleware would fall back on the browser's Accept-Language header; this panel's
customers often use phones set to English while they read Vietnamese best, so the panel's own
default (PANEL_LANGUAGE) decides until someone picks a language with the switcher.
"""

from collections.abc import Callable
from typing import TypeGuard

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from accounts.models import User
from accounts.services import user_set_language

# The anonymous visitor chose a language in this session: logging in keeps that choice.
SESSION_CHOICE_KEY = "panel_language_choice"


def is_supported(language: str | None) -> TypeGuard[str]:
    return bool(language) and language in dict(settings.LANGUAGES)


def request_language(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and is_supported(user.language):
        return user.language
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if is_supported(cookie):
        return cookie
    # A child panel's visitors get its owner's language (docs/child-panels.md).
    child = getattr(request, "child_panel", None)
    if child is not None and is_supported(child.language):
        return str(child.language)
    return settings.LANGUAGE_CODE


def set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        # Django's own setting, typed as any str in the stubs' settings.
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]
    )


def keep_visitor_language(
    sender: object, request: HttpRequest | None, user: User, **kwargs: object
) -> None:
    """On login, a language chosen before logging in (this session) becomes the user's; without
    one, the user's saved language applies (the middleware reads it on every request)."""
    chosen = request.session.pop(SESSION_CHOICE_KEY, None) if request is not None else None
    if is_supported(chosen):
        user_set_language(user=user, language=chosen)
    if request is not None:
        # The login view's own answer (the redirect) goes out in the user's language.
        translation.activate(request_language(request))
        request.LANGUAGE_CODE = translation.get_language()


class LanguageMiddleware:
    """Activates the request's language; after a logged-in request the cookie carries the
    user's language, so the login page after logging out speaks it too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        # The user may have changed their language in this very request (the switcher).
        if user is not None and user.is_authenticated and is_supported(user.language):
            if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != user.language:
                if settings.LANGUAGE_COOKIE_NAME not in response.cookies:
                    set_language_cookie(response, user.language)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
