"""Settings for every environment. Environments differ only in environment variables.

Required values (SECRET_KEY, DATABASE_URL, CELERY_BROKER_URL, CACHE_URL, PANEL_ENCRYPTION_KEYS)
have no default here: `make run` writes them to `.env`, and real environment variables win over it.
"""

# Each part reads its own variables; later parts read what earlier ones decided (the language
# picks the time zone and the currency, the intervals the beat schedule).
from panel.settings.beat import *  # noqa: F403
from panel.settings.environment import *  # noqa: F403
from panel.settings.product import *  # noqa: F403
from panel.settings.web import *  # noqa: F403
from panel.settings.workers import *  # noqa: F403
