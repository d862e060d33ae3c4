"""HTTPS from one switch, security headers on every answer, pages that need no inline code, and
`check --deploy` clean under production settings."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User

ROOT = Path(__file__).resolve().parents[2]
INLINE_CODE = re.compile(
    r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>(?!\s*</script>)|\sstyle=|\son[a-z]+=|javascript:",
    re.I,
)


def test_check_deploy_is_clean_under_production_settings() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "panel.settings",
        "PANEL_ENV_FILE": "",
        "SECRET_KEY": "x7!Qm2#vR9@pL4$wZ8^tK1&nB6*yH3(cF5)gJ0-dS2+eA7=uV9_iO4~rT8",
        "PANEL_ENCRYPTION_KEYS": "5Zq1mD4wXxWq8xqvJtXx0jVY4GfWm8c9mN0dQhYQyW8=",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/smm_panel",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
        "CACHE_URL": "redis://127.0.0.1:6379/15",
        "ALLOWED_HOSTS": "panel.example.com",
        "DEBUG": "False",
        "PANEL_HTTPS": "on",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_every_answer_carries_the_security_headers(client: Client, db: None) -> None:
    response = client.get(reverse("login"))

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.parametrize(
    "name",
    [
        "home",
        "login",
        "services",
        "updates",
        "api_docs",
        "dashboard",
        "order_new",
        "order_mass",
        "order_list",
        "account",
        "balance_history",
        "password_change",
    ],
)
def test_pages_have_no_inline_script_style_or_handlers(
    client: Client, customer: User, name: str
) -> None:
    if name not in ("home", "login", "services", "updates", "api_docs"):
        client.force_login(customer)

    response = client.get(reverse(name), follow=True)

    assert response.status_code == 200
    found = INLINE_CODE.findall(response.content.decode())
    assert not found, f"{name}: inline code the content security policy blocks: {found}"


def test_templates_carry_no_inline_code() -> None:
    """The rendered check above sees the main pages; this one sees every template, so a new page
    cannot slip an inline handler past the policy."""
    offenders = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        # JSON data islands (<script type="application/json">) are data, not code.
        text = re.sub(
            r'<script[^>]*type="application/json"[^>]*>.*?</script>', "", text, flags=re.S
        )
        if INLINE_CODE.search(text):
            offenders.append(str(template.relative_to(ROOT)))
    assert not offenders, f"inline script, style or handler in: {offenders}"


def test_favicon_is_served(client: Client) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
