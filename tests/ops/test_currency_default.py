"""PANEL_CURRENCY's default follows the panel's language (docs/configuration.md): a Vietnamese
panel sells in đồng, an English one in dollars; a value that is set always wins. Defaults that
are amounts follow the currency."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _currency(*, setting: str = "PANEL_CURRENCY", **env: str) -> str:
    base = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PANEL_CURRENCY", "PANEL_LANGUAGE", "DJANGO_SETTINGS_MODULE")
        and not name.startswith("PANEL_AFFILIATE_")
    }
    base.update(
        PANEL_ENV_FILE="",
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused",
        CELERY_BROKER_URL="memory://",
        PANEL_ENCRYPTION_KEYS=base64.urlsafe_b64encode(b"k" * 32).decode(),
        DJANGO_SETTINGS_MODULE="panel.settings",
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{setting})"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("env", "currency"),
    [
        ({"PANEL_LANGUAGE": "vi"}, "VND"),
        ({}, "VND"),  # PANEL_LANGUAGE defaults to vi
        ({"PANEL_LANGUAGE": "en"}, "USD"),
        ({"PANEL_LANGUAGE": "vi", "PANEL_CURRENCY": "USD"}, "USD"),
    ],
)
def test_the_currency_follows_the_language_unless_set(env: dict[str, str], currency: str) -> None:
    assert _currency(**env) == currency


@pytest.mark.parametrize(("currency", "smallest"), [("VND", "100000"), ("USD", "10")])
def test_the_smallest_affiliate_payout_is_in_the_panels_currency(
    currency: str, smallest: str
) -> None:
    # 10 is ten dollars, but 10 đồng is nothing: a đồng panel's default is 100,000 ₫
    assert _currency(setting="PANEL_AFFILIATE_MIN_PAYOUT", PANEL_CURRENCY=currency) == smallest
