"""What the browser tests share: logging in through the login form, and a listener that collects
the page's content-security-policy violations (the `chromium` fixture is in tests/conftest.py)."""

from typing import Any

from django.urls import reverse

PASSWORD = "pass12345"  # tests.factories.UserFactory's
# Collects violations in the page itself; init scripts run outside the page's policy.
CSP_LISTENER = """window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
    e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber));"""


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}{reverse('login')}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")  # the top bar's language switch has buttons too
    page.wait_for_load_state("load")


def csp_violations(page: Any) -> list[str]:
    return list(page.evaluate("window.__violations"))
