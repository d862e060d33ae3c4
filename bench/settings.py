"""Benchmark settings: the test settings, a database of their own, and a URL conf with a
minimal DRF endpoint to measure the framework's own ceiling in the same run."""

import os

os.environ.setdefault(
    "DATABASE_URL",
    f"postgres://postgres@127.0.0.1:5432/{os.environ.get('PANEL_BENCH_DB', 'smm_panel_bench')}",
)

from panel.settings_test import *  # noqa: E402,F403

ROOT_URLCONF = "bench.urls"
PANEL_API_RATE = "100000000/min"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
DEBUG = False
# Django's host check lets every name through to the child panels' host middleware, which
# serves these as the parent (panel/settings/web.py does the same with the environment's list).
ALLOWED_HOSTS = ["*"]
PANEL_PARENT_HOSTS = ["127.0.0.1", "localhost", "testserver"]
