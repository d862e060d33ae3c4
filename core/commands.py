"""The operator's management commands speak the panel's language (docs/translating.md), their
--help too. Django runs a command with PANEL_LANGUAGE active; argparse takes no lazy text, so
a command's `summary` (marked with gettext_lazy) is put into words when its parser is made, and
its options' help is given with gettext in `add_arguments`, which that making calls."""

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.functional import Promise
from django.utils.translation import gettext

from core.money import parse_money


class OperatorCommand(BaseCommand):
    summary: Promise | str = ""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        self.help = str(self.summary)
        return super().create_parser(prog_name, subcommand, **kwargs)


def amount_option(option: str, value: object) -> Decimal:
    """An amount given on the command line (parse_money's rule), refused in the operator's words
    with the option it came from."""
    try:
        return parse_money(value)
    except ValueError:
        raise CommandError(
            gettext("%(option)s is not an amount: %(value)s")
            % {"option": option, "value": repr(value)}
        ) from None
