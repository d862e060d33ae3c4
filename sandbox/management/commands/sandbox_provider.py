"""Run the sandbox v2 provider: `python manage.py sandbox_provider --port 9100`."""

from __future__ import annotations

import logging
import signal
from argparse import ArgumentParser
from decimal import Decimal, InvalidOperation
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sandbox import SandboxConfig, SandboxServer

# (option, help) for the config fields that take a number from the command line.
_FLOAT_OPTIONS: tuple[tuple[str, str], ...] = (
    ("latency_ms", "milliseconds slept before every answer"),
    ("latency_jitter_ms", "up to this many random milliseconds more"),
    ("pending_seconds", "seconds an order stays Pending"),
    ("run_seconds", "seconds from In progress to the final status"),
    ("partial_rate", "share of orders that end Partial"),
    ("cancel_rate", "share of orders that end Canceled"),
    ("timeout_rate", "chance that a faultable answer never comes"),
    ("timeout_seconds", "how long a timed-out request hangs before the connection closes"),
    ("error_5xx_rate", "chance of a 502 HTML page after the work is done"),
    ("non_json_rate", "chance of a 200 HTML challenge page after the work is done"),
    ("leaked_key_rate", "chance that an add is refused with a raw message key"),
    ("no_funds_rate", "chance that an add is refused for lack of funds"),
    ("reject_add_rate", "chance that an add is rejected outright (failover tests)"),
)


class _Stop(Exception):
    """Raised from the SIGTERM handler so the server stops (and saves) as on Ctrl-C."""


def build_config(options: dict[str, Any]) -> SandboxConfig:
    """The SandboxConfig the command's options describe; absent options keep the defaults."""
    defaults = SandboxConfig()
    values: dict[str, Any] = {
        "key": options.get("key") or defaults.key,
        "seed": options.get("seed", defaults.seed),
        "services": options.get("services", defaults.services),
        "products": options.get("products", defaults.products),
        "currency": options.get("currency") or defaults.currency,
        "state_file": options.get("state_file"),
        "verbose": bool(options.get("verbose")),
    }
    for name, _ in _FLOAT_OPTIONS:
        if options.get(name) is not None:
            values[name] = options[name]
    if options.get("balance") is not None:
        values["balance"] = _decimal(options["balance"])
    if options.get("fault_actions"):
        values["fault_actions"] = tuple(
            action.strip() for action in options["fault_actions"].split(",") if action.strip()
        )
    return SandboxConfig(**values)


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise CommandError(f"Not a decimal amount: {value}") from None


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


class Command(BaseCommand):
    help = "Run the sandbox v2 provider (a simulated upstream panel) until Ctrl-C."
    # The sandbox uses nothing of the project (no models, no URLs): it starts even
    # while the rest of the project does not pass its checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=9100)
        parser.add_argument("--key", default=None, help="the only API key accepted")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--services", type=int, default=40, help="catalog size")
        parser.add_argument("--products", type=int, default=6)
        parser.add_argument("--balance", default=None, help="the key's starting balance")
        parser.add_argument("--currency", default=None)
        for name, help_text in _FLOAT_OPTIONS:
            parser.add_argument(
                f"--{name.replace('_', '-')}", type=float, default=None, help=help_text
            )
        parser.add_argument(
            "--fault-actions", default=None, help="comma-separated actions faults apply to (add)"
        )
        parser.add_argument("--state-file", default=None, help="keep orders across restarts here")
        parser.add_argument("--verbose", action="store_true", help="log every request")

    def handle(self, *args: Any, **options: Any) -> None:
        config = build_config(options)
        if config.verbose:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        try:
            server = SandboxServer(config, host=options["host"], port=options["port"])
        except OSError as error:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {error}"
            ) from None
        signal.signal(signal.SIGTERM, _raise_stop)
        self.stdout.write(f"Sandbox provider at {server.url} (key: {config.key}). Ctrl-C to stop.")
        try:
            server.serve_forever()
        except (KeyboardInterrupt, _Stop):
            pass
        finally:
            server.stop()
        self.stdout.write("Sandbox provider stopped.")
