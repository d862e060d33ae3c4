"""The NAPAS bank list: who a BIN is, as a customer knows it (short name, full name) and as
vietqr.io's deeplinks name it (code), with the badge the panel draws for it.

The list is data (`payments/data/napas_banks.json`, from the MIT-licensed vietnam-qr-pay
package; `payments/data/LICENSE.vietnam-qr-pay`). The banks' own logos are trademarks
with no licence to ship them, so each bank is drawn as a badge of its short name on its brand
colour: an SVG with presentation attributes, which the content security policy allows where
it refuses style attributes."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.html import format_html
from django.utils.safestring import SafeString

DATA = Path(__file__).resolve().parent / "data" / "napas_banks.json"
BADGE_WIDTH, BADGE_HEIGHT = 72, 28
# A longer short name does not fit the badge: its code ("VCB" for Vietcombank) stands in.
BADGE_LETTERS = 7


@dataclass(frozen=True)
class Bank:
    bin: str
    code: str
    short_name: str
    name: str
    colour: str

    @property
    def label(self) -> str:
        """How the admin's list names it: enough to find it by any name a person types."""
        return f"{self.short_name} ({self.code}) · {self.name} · {self.bin}"


@cache
def banks() -> tuple[Bank, ...]:
    with DATA.open(encoding="utf-8") as data:
        return tuple(Bank(**row) for row in json.load(data)["banks"])


@cache
def _by_bin() -> dict[str, Bank]:
    return {bank.bin: bank for bank in banks()}


def bank_for(bank_bin: str) -> Bank | None:
    return _by_bin().get(bank_bin)


def bank_choices() -> list[tuple[str, str]]:
    """For the account's bank field: every bank, found by short name, code, full name or BIN."""
    return [(bank.bin, bank.label) for bank in banks()]


def badge_svg(bank: Bank | None, *, bank_bin: str = "") -> SafeString:
    """The bank's badge: its short name (its code when the name is long) on its colour; a BIN
    the list lacks shows the BIN."""
    text = (
        (bank.short_name if len(bank.short_name) <= BADGE_LETTERS else bank.code)
        if bank
        else bank_bin
    )
    size = 13 if len(text) <= 5 else 11
    return format_html(
        '<svg class="bank-badge" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-label="{label}"><rect width="{w}" height="{h}" rx="6" fill="{colour}"/>'
        '<text x="{x}" y="{y}" fill="#ffffff" font-size="{size}" font-weight="700" '
        'font-family="system-ui, sans-serif" text-anchor="middle" dominant-baseline="central">'
        "{text}</text></svg>",
        w=BADGE_WIDTH,
        h=BADGE_HEIGHT,
        x=BADGE_WIDTH // 2,
        y=BADGE_HEIGHT // 2,
        label=bank.name if bank else bank_bin,
        colour=bank.colour if bank else "#334155",
        size=size,
        text=text,
    )
