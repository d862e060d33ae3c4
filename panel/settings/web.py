"""Django itself: apps, middleware, database, languages, static files, security headers."""

import importlib.util
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from panel.settings.environment import BASE_DIR, env

SECRET_KEY = env.str("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
# The parent panel's own hosts. Every other host is a child panel's domain or unknown: the first
# middleware (panel.child_panels.hosts) decides, answering an unknown host with a plain 404,
# so Django's own host check lets every name through to it (docs/child-panels.md).
PANEL_PARENT_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
ALLOWED_HOSTS = ["*"]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The panel's apps in layer order, lowest first: each imports only those above it in this list
# (the import contracts in pyproject.toml, checked by `make lint`).
PANEL_APPS = [
    "accounts",
    "notifications",
    "payments",
    "providers",
    "affiliates",
    "orders",
    "reconciliation",
    "support",
    "bot",
    "panel",
    "operatorapi",
]

INSTALLED_APPS = [
    "panel.admin_apps.PanelAdminConfig",  # django.contrib.admin, the dashboard as its index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "csp",
    *PANEL_APPS,
]
# The provider simulator lives beside the product in a checkout (development, tests, the demo)
# and is left out of the installed package, so it is an app only where it can be imported.
if importlib.util.find_spec("sandbox") is not None:
    INSTALLED_APPS.append("sandbox")

# The PagesOnly* classes are the named middleware, left out for /api/v2 (panel/middleware.py).
# CSRF and X-Frame-Options keep Django's own classes: `check --deploy` looks for them by name.
MIDDLEWARE = [
    "panel.child_panels.hosts.ChildPanelHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "panel.middleware.PagesOnlyPermissionsPolicy",
    "panel.middleware.PagesOnlyCSP",
    "panel.middleware.PagesOnlyWhiteNoise",
    # Pages refuse text PostgreSQL cannot store (NUL) with a 400, before a view queries with it.
    "panel.middleware.StorableInputMiddleware",
    "panel.middleware.PagesOnlySession",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "panel.middleware.PagesOnlyAuthentication",
    "panel.language.LanguageMiddleware",
    "panel.middleware.PagesOnlyMessages",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Staff must enrol a TOTP device before they reach the admin (PANEL_STAFF_2FA).
    "panel.middleware.PagesOnlyStaffTwoFactor",
]

ROOT_URLCONF = "panel.urls"
WSGI_APPLICATION = "panel.wsgi.application"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "panel.context_processors.panel",
                "support.context_processors.support",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The hot reads of every API request as server-side prepared statements (core/db/prepared.py);
# off for a transaction-mode PgBouncer older than 1.22.
PANEL_DB_PREPARED_STATEMENTS = env.bool("PANEL_DB_PREPARED_STATEMENTS", default=True)
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    # The hot paths are written for PostgreSQL alone, and `make run` starts an
    # embedded PostgreSQL, so no setup needs another database.
    raise ImproperlyConfigured(
        f"DATABASE_URL must name a PostgreSQL database (postgres://...), not "
        f"{DATABASES['default']['ENGINE']}"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# Usernames are unique per panel (docs/child-panels.md); this backend looks them up in the
# panel being served, so Django's warning about a non-unique USERNAME_FIELD is answered.
AUTHENTICATION_BACKENDS = ["accounts.backends.PanelModelBackend"]
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

CACHES = {"default": env.cache_url("CACHE_URL")}

# Django's checks, with the panel's own messages (accounts/passwords.py).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.passwords.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.passwords.MinimumLengthValidator"},
    {"NAME": "accounts.passwords.CommonPasswordValidator"},
    {"NAME": "accounts.passwords.NumericPasswordValidator"},
]

# The language of a visitor who has not chosen one (PANEL_LANGUAGE); see panel/language.py.
LANGUAGE_CODE = env.str("PANEL_LANGUAGE", default="vi")
LANGUAGES = [("en", "English"), ("vi", "Tiếng Việt")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# A visitor's choice outlives the browser session (Django's default cookie ends with it).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
# A Vietnamese panel keeps Vietnam's time: "today" on the dashboard, the daily report's midnight.
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Ho_Chi_Minh" if LANGUAGE_CODE == "vi" else "UTC")
# Dates as each language writes them (panel/formats: 06/12/2026 14:30 in Vietnamese).
FORMAT_MODULE_PATH = ["panel.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT: Path | None = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "panel" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Files served at the site's root: /favicon.ico, which browsers ask for on every page.
WHITENOISE_ROOT = BASE_DIR / "panel" / "root"
# Serve straight from the finders when collectstatic has not run (make run skips it).
WHITENOISE_USE_FINDERS = True

# --- HTTPS and security headers (docs/operations.md) -----------------------------------------
# One switch: a panel holds customers' money, so HTTPS is on unless the environment says off
# (`make run` and the tests do; docker-compose keeps it on).
PANEL_HTTPS = env.bool("PANEL_HTTPS", default=True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PANEL_HTTPS
CSRF_COOKIE_SECURE = PANEL_HTTPS
SECURE_SSL_REDIRECT = PANEL_HTTPS
# A load balancer probes over plain HTTP; the health answer carries no secrets.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = env.int("PANEL_HSTS_SECONDS", default=31536000) if PANEL_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("PANEL_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("PANEL_HSTS_PRELOAD", default=True)
# Behind a reverse proxy that terminates TLS: the header it sets, e.g. HTTP_X_FORWARDED_PROTO.
# Empty means no proxy; trusting the header without a proxy that overwrites it would let any
# client claim HTTPS.
PANEL_PROXY_SSL_HEADER = env.str("PANEL_PROXY_SSL_HEADER", default="")
if PANEL_PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = (PANEL_PROXY_SSL_HEADER, "https")
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# The pages load their own scripts and styles only: no inline code, no outside hosts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.JSONParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "panel.api.errors.exception_handler",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # httpx logs every request URL at INFO; upstream URLs are admin-entered and may
        # carry credentials, so only warnings get through.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # The file-system broker has no host; kombu warns about that on every connection.
        "kombu.connection": {"level": "ERROR"},
    },
}
