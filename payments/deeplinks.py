"""VietQR deeplinks: a link that opens a banking app on the customer's phone with the transfer
filled in (vietqr.io, "Deeplink App ngân hàng"):

    https://dl.vietqr.io/pay?app={appId}&am={amount}&tn={memo}&ba={account}@{bank code}&bn={holder}

`app` is the app's id (not the bank's code), `am` digits only, `ba` the receiving account and
its bank's code in lower case, with the "@" left as it is; `bn` is optional. Apps that do not
fill the form in still open, and the customer pastes what the copy buttons copied."""

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

DEEPLINK_BASE = "https://dl.vietqr.io/pay"


@dataclass(frozen=True)
class BankApp:
    app_id: str
    name: str


# The apps most Vietnamese customers pay from, most used first; ids as vietqr.io lists them.
BANK_APPS = (
    BankApp("mb", "MB Bank"),
    BankApp("vcb", "Vietcombank"),
    BankApp("tcb", "Techcombank"),
    BankApp("icb", "VietinBank iPay"),
    BankApp("bidv", "BIDV SmartBanking"),
    BankApp("vba", "Agribank"),
    BankApp("acb", "ACB ONE"),
    BankApp("vpb", "VPBank NEO"),
    BankApp("tpb", "TPBank"),
    BankApp("stb", "Sacombank Pay"),
    BankApp("ocb", "OCB OMNI"),
    BankApp("msb", "MSB mBank"),
)


def deeplink(
    app: BankApp, *, account: str, bank_code: str, amount: Decimal | None, memo: str, holder: str
) -> str:
    # quote() with no safe characters: a space is %20, and nothing in a value can end it.
    parts = [f"app={quote(app.app_id, safe='')}"]
    if amount:
        parts.append(f"am={int(amount)}")
    parts.append(f"tn={quote(memo, safe='')}")
    parts.append(f"ba={quote(account, safe='')}@{quote(bank_code.lower(), safe='')}")
    if holder:
        parts.append(f"bn={quote(holder, safe='')}")
    return f"{DEEPLINK_BASE}?{'&'.join(parts)}"
