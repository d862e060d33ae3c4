"""The signature checks docs/protocol.md gives resellers, run as written: each accepts what the
panel's sender signs (a body with Vietnamese text, as customers' links and statuses carry) and
refuses a changed body, another secret and an old timestamp. A snippet whose language is not
installed here is skipped, with its name."""

import base64
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from notifications.webhooks.signing import signature_value

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
SECRET = "whsec_test-secret-0123456789"
BODY = json.dumps(
    {"id": "evt_1", "type": "ping", "data": {"message": "Đơn hàng đã xong"}},
    separators=(",", ":"),
    ensure_ascii=False,
).encode()

Check = Callable[[str, bytes, str], bool]


def _snippet(language: str) -> str:
    """The `language` block of the "Checking the signature" part of the doc."""
    text = DOC.read_text()
    section = text[text.index("**Checking the signature.**") :]
    found = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert found, f"no {language} snippet under 'Checking the signature'"
    return found.group(1)


def _python() -> Check:
    namespace: dict[str, object] = {}
    exec(_snippet("python"), namespace)  # noqa: S102 - the doc's own code, run as a reader would
    return namespace["is_valid"]  # type: ignore[return-value]


def _external(program: str, source: str, call: str) -> Check:
    """A check run by `program`: the snippet, then `call` printing 1 or 0 for the secret, body
    (base64, so every byte arrives as signed) and header given on the command line."""

    def check(secret: str, body: bytes, header: str) -> bool:
        args = [secret, base64.b64encode(body).decode(), header]
        done = subprocess.run(  # noqa: S603 - a fixed interpreter and our own script
            [program, "--", *args] if program == "php" else [program, "-", *args],
            input=source + "\n" + call,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return done.stdout.strip().endswith("1")

    return check


def _node() -> Check:
    call = (
        "const [secret, body, header] = process.argv.slice(2);\n"
        "process.stdout.write(isValid(secret, Buffer.from(body, 'base64'), header) ? '1' : '0');\n"
    )
    return _external("node", _snippet("js"), call)


def _php() -> Check:
    call = (
        "$secret = $argv[1]; $body = base64_decode($argv[2]); $header = $argv[3];\n"
        "echo is_valid($secret, $body, $header) ? '1' : '0';\n"
    )
    return _external("php", "<?php\n" + _snippet("php"), call)


CHECKS = {"python": (None, _python), "node": ("node", _node), "php": ("php", _php)}


@pytest.mark.parametrize("language", list(CHECKS))
def test_the_documented_check_accepts_the_panels_signature_and_nothing_else(
    language: str,
) -> None:
    program, make = CHECKS[language]
    if program and shutil.which(program) is None:
        pytest.skip(f"{program} is not installed")
    is_valid = make()
    now = int(time.time())
    header = signature_value(secret=SECRET, body=BODY, timestamp=now)

    assert is_valid(SECRET, BODY, header)
    assert not is_valid(SECRET, BODY.replace(b"ping", b"pong"), header)
    assert not is_valid("whsec_another", BODY, header)
    old = signature_value(secret=SECRET, body=BODY, timestamp=now - 3600)
    assert not is_valid(SECRET, BODY, old)
