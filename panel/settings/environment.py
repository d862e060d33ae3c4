"""Where every setting comes from: the environment, and the `.env` file `make run` writes."""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# The file `make run` writes; PANEL_ENV_FILE names another, or none when empty (the tests).
ENV_FILE = os.environ.get("PANEL_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE)
