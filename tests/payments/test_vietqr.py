"""The VietQR payload: published NAPAS / library vectors, and a round trip."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from payments.vietqr import NAPAS_GUID, VietQRError, build_payload, crc16_ccitt, qr_svg

# Published payloads: a NAPAS specification sample, a payOS answer, and a library's test vector.
PUBLISHED = [
    "00020101021238570010A00000072701270006970436011300110018008790208QRIBFTTA530370454061000005802VN62130809nhan tien6304D1EF",
    "00020101021238570010A000000727012700069704220113VQRQAJSYL90280208QRIBFTTA5303704540420005802VN62140810Thanh toan630419F3",
    "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E",
]


# The decoder the tests read payloads back with (the panel only builds them).
@dataclass(frozen=True)
class Transfer:
    bank_bin: str
    account: str
    amount: Decimal | None
    memo: str


def _fields(data: str) -> dict[str, str]:
    fields, index = {}, 0
    while index < len(data):
        tag, length = data[index : index + 2], data[index + 2 : index + 4]
        if len(tag) < 2 or not length.isdigit():
            raise VietQRError("malformed field")
        end = index + 4 + int(length)
        if end > len(data):
            raise VietQRError("field runs past the end")
        fields[tag] = data[index + 4 : end]
        index = end
    return fields


def parse_payload(payload: str) -> Transfer:
    """The transfer a payload asks for; raises VietQRError on a bad CRC or a foreign layout."""
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise VietQRError("no CRC field at the end")
    if crc16_ccitt(payload[:-4]) != payload[-4:].upper():
        raise VietQRError("CRC mismatch")
    top = _fields(payload[:-8])
    merchant = _fields(top.get("38", ""))
    if merchant.get("00") != NAPAS_GUID:
        raise VietQRError("not a NAPAS VietQR payload")
    beneficiary = _fields(merchant.get("01", ""))
    amount = top.get("54")
    return Transfer(
        bank_bin=beneficiary.get("00", ""),
        account=beneficiary.get("01", ""),
        amount=Decimal(amount) if amount else None,
        memo=_fields(top["62"]).get("08", "") if "62" in top else "",
    )


@pytest.mark.parametrize("payload", PUBLISHED)
def test_crc_matches_published_payloads(payload: str) -> None:
    assert crc16_ccitt(payload[:-4]) == payload[-4:]


def test_build_reproduces_the_napas_sample_byte_for_byte() -> None:
    built = build_payload(
        bank_bin="970436", account="0011001800879", amount=Decimal(100000), memo="nhan tien"
    )
    assert built == PUBLISHED[0]


def test_payload_decodes_back_to_bank_account_amount_and_memo() -> None:
    payload = build_payload(
        bank_bin="970422", account="123456789", amount=Decimal(250000), memo="NAP1042"
    )
    transfer = parse_payload(payload)
    assert (transfer.bank_bin, transfer.account, transfer.amount, transfer.memo) == (
        "970422",
        "123456789",
        Decimal(250000),
        "NAP1042",
    )


def test_payload_without_amount_is_static() -> None:
    payload = build_payload(bank_bin="970422", account="123456789", amount=None, memo="NAP7")
    assert payload.startswith("000201010211")
    assert parse_payload(payload).amount is None


def test_corrupted_payload_fails_the_crc() -> None:
    with pytest.raises(VietQRError):
        parse_payload(PUBLISHED[0].replace("100000", "900000"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bank_bin": "97043", "account": "1", "amount": None, "memo": ""},
        {"bank_bin": "970436", "account": "12 34", "amount": None, "memo": ""},
        {"bank_bin": "970436", "account": "1", "amount": Decimal("1.5"), "memo": ""},
        {"bank_bin": "970436", "account": "1", "amount": None, "memo": "x" * 26},
    ],
)
def test_bad_transfer_details_are_refused(kwargs: dict) -> None:
    with pytest.raises(VietQRError):
        build_payload(**kwargs)


def test_qr_renders_as_inline_svg() -> None:
    svg = qr_svg(PUBLISHED[0])
    assert svg.startswith("<svg") and "</svg>" in svg
