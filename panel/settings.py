"""Settings for every environment. Environments differ only in environment variables.

Required values (SECRET_KEY, DATABASE_URL, CELERY_BROKER_URL, CACHE_URL, PANEL_ENCRYPTION_KEYS)
have no default here: `make run` writes them to `.env`, and real environment variables win over it.
"""

import importlib.util
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# The file `make run` writes; PANEL_ENV_FILE names another, or none when empty (the tests).
ENV_FILE = os.environ.get("PANEL_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE)

SECRET_KEY = env.str("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
# The parent panel's own hosts. Every other host is a child panel's domain or unknown: the first
# middleware (panel.child_panels.hosts) decides, answering an unknown host with a plain 404,
# so Django's own host check lets every name through to it (docs/child-panels.md).
PANEL_PARENT_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
ALLOWED_HOSTS = ["*"]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

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
    # The panel's apps in layer order, lowest first: each imports only those above it in this
    # list (the import contracts in pyproject.toml, checked by `make lint`).
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
    "panel.middleware.PagesOnlySession",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "panel.middleware.PagesOnlyAuthentication",
    "panel.language.LanguageMiddleware",
    "panel.middleware.PagesOnlyMessages",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
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

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
CELERY_BROKER_TRANSPORT_OPTIONS = env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={})
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded setup's file broker, writing each message whole (panel/broker.py).
    CELERY_BROKER_TRANSPORT = "panel.broker:Transport"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=150)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Queues per provider (docs/scaling.md): a provider's forwards go to `forward.<n>` and its poll
# rounds to `poll.<n>`, n = provider id mod PANEL_PROVIDER_QUEUES, so ids that follow each other
# never share a queue until there are more providers than queues. A worker started without -Q
# consumes every queue in turn (a poll never waits behind a backlog of forwards, nor one
# provider's backlog behind another's); `-Q forward.3,poll.3` pins a worker to provider 3's (and
# 3 + PANEL_PROVIDER_QUEUES's …). Beat's own ticks go to `celery`, the round starter to `poll`.
PANEL_PROVIDER_QUEUES = max(env.int("PANEL_PROVIDER_QUEUES", default=16), 1)
# At most this many upstream calls of forwarding to one provider at once, across all workers:
# a provider that hangs holds no more worker processes than this, so workers with more
# processes always have one for the other providers' orders.
PANEL_PROVIDER_FORWARD_SLOTS = max(env.int("PANEL_PROVIDER_FORWARD_SLOTS", default=2), 1)
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (
    Queue("celery"),
    Queue("poll"),
    *(Queue(f"{kind}.{n}") for n in range(PANEL_PROVIDER_QUEUES) for kind in ("forward", "poll")),
)
CELERY_TASK_ROUTES = {
    "orders.tasks.orders_poll_all_task": {"queue": "poll"},
    # Published with their provider's queue (orders.enqueue); this is for a bare .delay().
    "orders.tasks.provider_poll_task": {"queue": "poll"},
}
CELERY_TIMEZONE = TIME_ZONE

# How often beat starts a poll round, and how long an order waits between two polls: the
# interval doubles while an order does not move, up to the maximum.
PANEL_POLL_SECONDS = env.int("PANEL_POLL_SECONDS", default=15)
PANEL_POLL_INTERVAL_SECONDS = env.int("PANEL_POLL_INTERVAL_SECONDS", default=60)
PANEL_POLL_MAX_INTERVAL_SECONDS = env.int("PANEL_POLL_MAX_INTERVAL_SECONDS", default=1800)
PANEL_DISPATCH_SWEEP_SECONDS = env.int("PANEL_DISPATCH_SWEEP_SECONDS", default=30)
# An order a provider refused because the link has an open order there waits this long before
# the next try (sooner when the panel sees its own order on that link finish).
PANEL_LINK_BUSY_RETRY_SECONDS = env.int("PANEL_LINK_BUSY_RETRY_SECONDS", default=600)
# Placing an order publishes nothing; this often beat queues the forwards of new orders.
PANEL_FORWARD_SWEEP_SECONDS = env.float("PANEL_FORWARD_SWEEP_SECONDS", default=1.0)
PANEL_CATALOG_SYNC_MINUTES = env.int("PANEL_CATALOG_SYNC_MINUTES", default=60)
PANEL_BALANCE_REFRESH_MINUTES = env.int("PANEL_BALANCE_REFRESH_MINUTES", default=10)
# The margin guard (providers.services.catalog.guard, docs/operations.md "Held services"): a
# sync holds a service whose new cost leaves less than this margin over cost at the lowest
# price any customer pays, or whose cost rose by more than the hold percent; placing refuses
# an order charged below its cost plus the margin. Percents, decimals allowed.
PANEL_MIN_MARGIN_PERCENT = Decimal(env.str("PANEL_MIN_MARGIN_PERCENT", default="5"))
PANEL_PRICE_HOLD_PERCENT = Decimal(env.str("PANEL_PRICE_HOLD_PERCENT", default="30"))
# The provider reconciliation (docs/reconciliation.md): an order is flagged when what its
# provider charges differs from what the panel expects by more than this percent of its price;
# a day's balance when its unexplained drift exceeds this percent of the day's charges (beyond
# what the day's edges leave open). Percents, decimals allowed.
PANEL_RECONCILE_ORDER_TOLERANCE_PERCENT = Decimal(
    env.str("PANEL_RECONCILE_ORDER_TOLERANCE_PERCENT", default="1")
)
PANEL_RECONCILE_BALANCE_TOLERANCE_PERCENT = Decimal(
    env.str("PANEL_RECONCILE_BALANCE_TOLERANCE_PERCENT", default="0.5")
)

# Beat sends a heartbeat this often; `/health/worker/` fails when none was consumed for longer
# than the maximum age (a dead or wedged worker).
PANEL_WORKER_HEARTBEAT_SECONDS = env.int("PANEL_WORKER_HEARTBEAT_SECONDS", default=60)
PANEL_WORKER_HEARTBEAT_MAX_AGE = env.int("PANEL_WORKER_HEARTBEAT_MAX_AGE", default=300)
# How long `/health/` waits for the broker before calling it down.
PANEL_HEALTH_TIMEOUT = env.float("PANEL_HEALTH_TIMEOUT", default=3.0)


# --- The panel ----------------------------------------------------------------------------
PANEL_NAME = env.str("PANEL_NAME", default="SMM Panel")
# A Vietnamese panel sells in đồng unless told otherwise (as TIME_ZONE follows the language).
# The currency is chosen once: balances and prices are stored in it, never converted.
PANEL_CURRENCY = env.str("PANEL_CURRENCY", default="VND" if LANGUAGE_CODE == "vi" else "USD")
# Fernet keys for secrets at rest (provider API keys). The first encrypts; all decrypt, so a
# new key can be put in front, `manage.py rotate_secrets` run, and the old ones retired.
PANEL_ENCRYPTION_KEYS = env.list("PANEL_ENCRYPTION_KEYS")
PANEL_API_RATE = env.str("PANEL_API_RATE", default="1200/min")
PANEL_API_BAD_KEY_RATE = env.str("PANEL_API_BAD_KEY_RATE", default="30/min")
# Calls per staff key of the operator API (/adminapi/v2, docs/admin-api.md).
PANEL_OPERATOR_API_RATE = env.str("PANEL_OPERATOR_API_RATE", default="600/min")
# Behind a proxy, the request header that carries the client address (e.g. HTTP_X_REAL_IP);
# empty means REMOTE_ADDR. Only set it when the proxy overwrites the header.
PANEL_REAL_IP_HEADER = env.str("PANEL_REAL_IP_HEADER", default="")
PANEL_PROVIDER_CONNECT_TIMEOUT = env.float("PANEL_PROVIDER_CONNECT_TIMEOUT", default=5.0)
PANEL_PROVIDER_READ_TIMEOUT = env.float("PANEL_PROVIDER_READ_TIMEOUT", default=30.0)
PANEL_POLL_CONCURRENCY = env.int("PANEL_POLL_CONCURRENCY", default=8)
# Polling scale-out (docs/performance.md): threads that claim and write chunks side by side
# in one poller, each with its own database connection; and poll tasks per provider and round,
# which any worker may take (each keeps its share of the provider's calls in flight).
PANEL_POLL_LANES = env.int("PANEL_POLL_LANES", default=2)
PANEL_POLL_TASKS_PER_PROVIDER = env.int("PANEL_POLL_TASKS_PER_PROVIDER", default=1)
# Posts bought for a subscription ordered without `posts` (charged as max × this many).
PANEL_SUBSCRIPTION_DEFAULT_POSTS = env.int("PANEL_SUBSCRIPTION_DEFAULT_POSTS", default=10)

# --- Input limits (hardening) -------------------------------------------------------------------
# The largest request body /api/v2 reads: 100 ids or a long comment list fit many times over.
PANEL_API_MAX_BODY_BYTES = env.int("PANEL_API_MAX_BODY_BYTES", default=256 * 1024)
# Pages refuse text PostgreSQL cannot store (NUL) with a 400, before a view queries with it.
MIDDLEWARE.insert(
    MIDDLEWARE.index("panel.middleware.PagesOnlySession"),
    "panel.middleware.StorableInputMiddleware",
)

# --- Support tickets and notifications ------------------------------------------------------
TEMPLATES[0]["OPTIONS"]["context_processors"].append("support.context_processors.support")
# Customer emails: smtp://user:password@host:587/?tls=True, or consolemail:// to print them.
vars().update(env.email_url("EMAIL_URL", default="smtp://localhost:25"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webmaster@localhost")
# Operator alerts through a Telegram bot; both empty (the default) turns them off.
PANEL_TELEGRAM_BOT_TOKEN = env.str("PANEL_TELEGRAM_BOT_TOKEN", default="")
PANEL_TELEGRAM_CHAT_ID = env.str("PANEL_TELEGRAM_CHAT_ID", default="")
PANEL_TELEGRAM_API_URL = env.str("PANEL_TELEGRAM_API_URL", default="https://api.telegram.org")
# The customers' bot (docs/telegram-bot.md): its token is set in the admin, not here.
PANEL_TELEGRAM_BOT_RATE_PER_MINUTE = env.int("PANEL_TELEGRAM_BOT_RATE_PER_MINUTE", default=30)
PANEL_NOTIFICATIONS_SECONDS = env.int("PANEL_NOTIFICATIONS_SECONDS", default=30)
PANEL_DELIVERY_TIMES_MINUTES = env.int("PANEL_DELIVERY_TIMES_MINUTES", default=10)
# The scorecard (orders.scorecard): its window, the fewest orders a figure is shown from, and
# how often beat recomputes it.
PANEL_SCORECARD_DAYS = env.int("PANEL_SCORECARD_DAYS", default=30)
PANEL_SCORECARD_MIN_ORDERS = env.int("PANEL_SCORECARD_MIN_ORDERS", default=10)
PANEL_SCORECARD_MINUTES = env.int("PANEL_SCORECARD_MINUTES", default=15)
# Webhooks to customers (notifications/webhooks/): how often beat posts the retries and checks
# balances against the endpoints' thresholds (new events are posted right after their commit).
PANEL_WEBHOOKS_SECONDS = env.int("PANEL_WEBHOOKS_SECONDS", default=10)
# Deliveries to 127.0.0.1/::1 (and plain http there): for tests and the demo only; every other
# private, link-local or reserved address is refused whatever this says.
PANEL_WEBHOOKS_ALLOW_LOOPBACK = env.bool("PANEL_WEBHOOKS_ALLOW_LOOPBACK", default=False)
# This panel's public address (https://panel.example.com): where upstream copies of this panel
# post their webhooks. Empty: the panel subscribes to none and relies on polling alone.
PANEL_PUBLIC_URL = env.str("PANEL_PUBLIC_URL", default="")

# --- Child panels (docs/child-panels.md) ------------------------------------------------------
# Where child panels' providers reach this panel's /api/v2; empty: PANEL_PUBLIC_URL + /api/v2.
# An address inside the network (http://web:8000/api/v2) spares the trip through the proxy.
PANEL_CHILD_PANEL_API_URL = env.str("PANEL_CHILD_PANEL_API_URL", default="")
# The host a child panel's domain points at (its CNAME, or the A/AAAA records of this host);
# empty: PANEL_PUBLIC_URL's host. A panel waiting for DNS opens once its domain resolves to it.
PANEL_CHILD_PANEL_TARGET = env.str(
    "PANEL_CHILD_PANEL_TARGET", default=urlsplit(PANEL_PUBLIC_URL).hostname or ""
)
PANEL_CHILD_PANEL_DNS_MINUTES = env.int("PANEL_CHILD_PANEL_DNS_MINUTES", default=5)
# What a customer pays for a child panel he orders himself, from his balance: once at setup, and
# each 30 days after. A fee unpaid this many days past its date suspends the panel until paid.
PANEL_CHILD_PANEL_SETUP_PRICE = Decimal(env.str("PANEL_CHILD_PANEL_SETUP_PRICE", default="0"))
PANEL_CHILD_PANEL_MONTHLY_FEE = Decimal(env.str("PANEL_CHILD_PANEL_MONTHLY_FEE", default="0"))
PANEL_CHILD_PANEL_GRACE_DAYS = env.int("PANEL_CHILD_PANEL_GRACE_DAYS", default=3)
PANEL_CHILD_PANEL_BILLING_MINUTES = env.int("PANEL_CHILD_PANEL_BILLING_MINUTES", default=60)
# How long a process keeps which panel a host name serves (0: asks the database every request).
PANEL_CHILD_PANEL_HOSTS_CACHE_SECONDS = env.float(
    "PANEL_CHILD_PANEL_HOSTS_CACHE_SECONDS", default=5.0
)

# --- Sign-up, security and payments (issue 9) ----------------------------------------------
# A new account stays inactive until the emailed link is opened. On unless said otherwise:
# a production panel must not hand out accounts for addresses nobody owns.
PANEL_REQUIRE_EMAIL_CONFIRMATION = env.bool("PANEL_REQUIRE_EMAIL_CONFIRMATION", default=True)
# Staff must enrol a TOTP device before they reach the admin.
PANEL_STAFF_2FA = env.bool("PANEL_STAFF_2FA", default=True)
# Failed logins allowed per window, per client address and per username, before a lockout.
PANEL_LOGIN_FAILURES = env.int("PANEL_LOGIN_FAILURES", default=10)
PANEL_LOGIN_LOCKOUT_MINUTES = env.int("PANEL_LOGIN_LOCKOUT_MINUTES", default=15)
# An unconfirmed sign-up is deleted after this long, which frees its username and address.
PANEL_SIGNUP_CONFIRM_HOURS = env.int("PANEL_SIGNUP_CONFIRM_HOURS", default=48)
# Password-reset mails per window, per address asked for and per client address; past either
# limit the page answers the same and sends nothing.
PANEL_PASSWORD_RESET_PER_ADDRESS = env.int("PANEL_PASSWORD_RESET_PER_ADDRESS", default=3)
PANEL_PASSWORD_RESET_PER_CLIENT = env.int("PANEL_PASSWORD_RESET_PER_CLIENT", default=10)
PANEL_PASSWORD_RESET_WINDOW_MINUTES = env.int("PANEL_PASSWORD_RESET_WINDOW_MINUTES", default=60)
# How customers reach the operator (panel/contact.py checks each value at start; empty: not
# shown): a Zalo number or zalo.me link, a hotline, a Telegram @username, a Facebook page/m.me.
PANEL_SUPPORT_ZALO = env.str("PANEL_SUPPORT_ZALO", default="")
PANEL_SUPPORT_PHONE = env.str("PANEL_SUPPORT_PHONE", default="")
PANEL_SUPPORT_TELEGRAM = env.str("PANEL_SUPPORT_TELEGRAM", default="")
PANEL_SUPPORT_FACEBOOK = env.str("PANEL_SUPPORT_FACEBOOK", default="")
# How often the orders pages ask for fresh statuses while the tab is visible.
PANEL_LIVE_REFRESH_SECONDS = env.int("PANEL_LIVE_REFRESH_SECONDS", default=10)
# Months kept in the live tables before `manage.py archive_months` may archive them
# (docs/scaling.md, "Archiving").
PANEL_ARCHIVE_AFTER_MONTHS = env.int("PANEL_ARCHIVE_AFTER_MONTHS", default=13)
# The bank account customers transfer to (VietQR) and the keys of the services that report the
# transfers. Empty means not configured: the admin's gateway settings may supply or override them.
PANEL_BANK_BIN = env.str("PANEL_BANK_BIN", default="")
PANEL_BANK_ACCOUNT = env.str("PANEL_BANK_ACCOUNT", default="")
PANEL_BANK_ACCOUNT_NAME = env.str("PANEL_BANK_ACCOUNT_NAME", default="")
PANEL_TRANSFER_PREFIX = env.str("PANEL_TRANSFER_PREFIX", default="NAP")
PANEL_SEPAY_API_KEY = env.str("PANEL_SEPAY_API_KEY", default="")
PANEL_CASSO_CHECKSUM_KEY = env.str("PANEL_CASSO_CHECKSUM_KEY", default="")
# VND per one unit of the panel currency; empty means bank transfers are not offered.
PANEL_VND_RATE = env.str("PANEL_VND_RATE", default="")
# Where the panel calls Stripe's and Cryptomus' APIs (the secret key goes with every call), set
# only here, never in the admin: empty is the gateway's own documented host. For test servers.
PANEL_STRIPE_API_BASE = env.str("PANEL_STRIPE_API_BASE", default="")
PANEL_CRYPTOMUS_API_BASE = env.str("PANEL_CRYPTOMUS_API_BASE", default="")
# How old a signed webhook (Casso, Stripe) may be before it is refused as a replay.
PANEL_WEBHOOK_TOLERANCE_SECONDS = env.int("PANEL_WEBHOOK_TOLERANCE_SECONDS", default=300)
MIDDLEWARE += ["panel.middleware.PagesOnlyStaffTwoFactor"]

# --- The operator's cockpit (dashboard rollup, daily report, tiers) ------------------------
PANEL_DASHBOARD_ROLLUP_SECONDS = env.int("PANEL_DASHBOARD_ROLLUP_SECONDS", default=60)
PANEL_PRICING_TIERS_MINUTES = env.int("PANEL_PRICING_TIERS_MINUTES", default=60)
# Affiliates (docs/affiliates.md): the share of each referred deposit, how long a referral link
# is remembered, how long each kind of payment is held before its commission settles, the
# smallest payout, and how sign-up traces are compared and kept.
PANEL_AFFILIATE_PERCENT = Decimal(env.str("PANEL_AFFILIATE_PERCENT", default="5"))
PANEL_AFFILIATE_COOKIE_DAYS = env.int("PANEL_AFFILIATE_COOKIE_DAYS", default=30)
PANEL_AFFILIATE_HOLD_DAYS = env.int("PANEL_AFFILIATE_HOLD_DAYS", default=7)
PANEL_AFFILIATE_CARD_HOLD_DAYS = env.int("PANEL_AFFILIATE_CARD_HOLD_DAYS", default=120)
# In PANEL_CURRENCY: 10 dollars, or 100,000 đồng (10 đồng would be a bank fee's fraction).
PANEL_AFFILIATE_MIN_PAYOUT = Decimal(
    env.str("PANEL_AFFILIATE_MIN_PAYOUT", default="100000" if PANEL_CURRENCY == "VND" else "10")
)
PANEL_AFFILIATE_SIGNUP_WINDOW_HOURS = env.int("PANEL_AFFILIATE_SIGNUP_WINDOW_HOURS", default=72)
PANEL_AFFILIATE_TRACE_DAYS = env.int("PANEL_AFFILIATE_TRACE_DAYS", default=90)
PANEL_AFFILIATE_SETTLE_MINUTES = env.int("PANEL_AFFILIATE_SETTLE_MINUTES", default=5)
# The daily report counts orders still not final this long after they were placed as stuck.
PANEL_STUCK_ORDER_HOURS = env.int("PANEL_STUCK_ORDER_HOURS", default=48)

# --- The beat schedule: every periodic task, in one place ----------------------------------
CELERY_BEAT_SCHEDULE = {
    "orders-poll": {
        "task": "orders.tasks.orders_poll_all_task",
        "schedule": timedelta(seconds=PANEL_POLL_SECONDS),
    },
    "orders-forward": {
        "task": "orders.tasks.forwards_queue_task",
        "schedule": timedelta(seconds=PANEL_FORWARD_SWEEP_SECONDS),
        # A tick that waited behind a backlog is dropped: the next one does the same work.
        "options": {"expires": max(5 * PANEL_FORWARD_SWEEP_SECONDS, 5)},
    },
    # The coming months' partitions of orders, events and the ledger (orders.partitions);
    # hourly, so the order id sequence moves to a new month's range within its first hour.
    "partitions-prepare": {
        "task": "orders.tasks.partitions_prepare_task",
        "schedule": timedelta(hours=1),
    },
    "orders-dispatch-sweep": {
        "task": "orders.tasks.orders_dispatch_sweep_task",
        "schedule": timedelta(seconds=PANEL_DISPATCH_SWEEP_SECONDS),
    },
    # Refills past their deadline or rejected upstream take their service's next step
    # (docs/lifecycle.md, "Refills"); replacement orders that finished end their refill.
    "refills-escalate": {
        "task": "orders.tasks.refills_escalate_task",
        "schedule": timedelta(minutes=1),
    },
    "catalog-sync": {
        "task": "providers.tasks.catalog_sync_all_task",
        "schedule": timedelta(minutes=PANEL_CATALOG_SYNC_MINUTES),
    },
    "worker-heartbeat": {
        "task": "panel.tasks.worker_heartbeat_task",
        "schedule": timedelta(seconds=PANEL_WORKER_HEARTBEAT_SECONDS),
    },
    "provider-balances": {
        "task": "providers.tasks.provider_refresh_balances_task",
        "schedule": timedelta(minutes=PANEL_BALANCE_REFRESH_MINUTES),
    },
    # Used one-time form tokens are kept two days (accounts.form_tokens), then purged.
    "form-submissions-purge": {
        "task": "accounts.tasks.form_submissions_purge_task",
        "schedule": timedelta(hours=6),
    },
    "notifications-deliver": {
        "task": "notifications.tasks.notifications_deliver_task",
        "schedule": timedelta(seconds=PANEL_NOTIFICATIONS_SECONDS),
    },
    "webhooks-deliver": {
        "task": "notifications.tasks.webhooks_deliver_task",
        "schedule": timedelta(seconds=PANEL_WEBHOOKS_SECONDS),
        "options": {"expires": max(5 * PANEL_WEBHOOKS_SECONDS, 5)},
    },
    "webhooks-balance-watch": {
        "task": "notifications.tasks.webhooks_balance_watch_task",
        "schedule": timedelta(seconds=PANEL_WEBHOOKS_SECONDS),
        "options": {"expires": max(5 * PANEL_WEBHOOKS_SECONDS, 5)},
    },
    # Upstream copies of this panel push statuses once subscribed (providers.services.webhooks).
    "providers-webhooks-subscribe": {
        "task": "providers.tasks.providers_webhooks_subscribe_task",
        "schedule": timedelta(hours=1),
    },
    "orders-needs-review-alerts": {
        "task": "orders.tasks.needs_review_alerts_task",
        "schedule": timedelta(seconds=PANEL_NOTIFICATIONS_SECONDS),
    },
    "services-delivery-times": {
        "task": "orders.tasks.service_delivery_times_task",
        "schedule": timedelta(minutes=PANEL_DELIVERY_TIMES_MINUTES),
    },
    "services-delivery-times-full": {
        "task": "orders.tasks.service_delivery_times_task",
        "schedule": timedelta(days=1),
        "kwargs": {"full": True},
    },
    "services-scorecard": {
        "task": "orders.tasks.service_scores_refresh_task",
        "schedule": timedelta(minutes=PANEL_SCORECARD_MINUTES),
    },
    "child-panels-billing": {
        "task": "panel.tasks.child_panels_bill_task",
        "schedule": timedelta(minutes=PANEL_CHILD_PANEL_BILLING_MINUTES),
    },
    "child-panels-dns": {
        "task": "panel.tasks.child_panels_check_dns_task",
        "schedule": timedelta(minutes=PANEL_CHILD_PANEL_DNS_MINUTES),
    },
    "dashboard-rollup": {
        "task": "panel.tasks.dashboard_rollup_task",
        "schedule": timedelta(seconds=PANEL_DASHBOARD_ROLLUP_SECONDS),
    },
    # Midnight in TIME_ZONE (CELERY_TIMEZONE follows it): the report of the day that ended.
    "daily-report": {
        "task": "panel.tasks.daily_report_task",
        "schedule": crontab(minute=0, hour=0),
    },
    "pricing-tiers": {
        "task": "panel.tasks.pricing_tiers_assign_task",
        "schedule": timedelta(minutes=PANEL_PRICING_TIERS_MINUTES),
    },
    # Telegram updates a worker never took (a lost task), and forgetting old ones.
    "bot-updates-sweep": {
        "task": "bot.tasks.bot_updates_sweep_task",
        "schedule": timedelta(minutes=1),
    },
    "signups-expire": {
        "task": "accounts.tasks.signups_expire_task",
        "schedule": timedelta(hours=1),
    },
    # Idempotency records of the operator API live a day (docs/admin-api.md).
    "operator-api-idempotency-purge": {
        "task": "operatorapi.tasks.idempotency_records_purge_task",
        "schedule": timedelta(hours=1),
    },
    # Midnight in TIME_ZONE: every provider's balance at the edge of the day
    # (docs/reconciliation.md); the quarter-hourly run takes a snapshot the midnight one missed
    # and reconciles each day once its refunds had time to be seen.
    "reconciliation-snapshots": {
        "task": "reconciliation.tasks.balance_snapshots_task",
        "schedule": crontab(minute=0, hour=0),
    },
    "reconciliation": {
        "task": "reconciliation.tasks.reconciliation_due_task",
        "schedule": timedelta(minutes=15),
    },
    # Accrues, reverses and settles referral commissions (docs/affiliates.md).
    "affiliate-settle": {
        "task": "affiliates.tasks.affiliate_settle_task",
        "schedule": timedelta(minutes=PANEL_AFFILIATE_SETTLE_MINUTES),
    },
}
