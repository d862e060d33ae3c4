"""The panel's own settings: currency, API limits, notifications, child panels, sign-up,
payments, the cockpit and affiliates."""

from decimal import Decimal
from urllib.parse import urlsplit

from panel.settings.environment import env
from panel.settings.web import LANGUAGE_CODE

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

# --- Support tickets and notifications ------------------------------------------------------
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
