"""VietQR: the NAPAS EMVCo payload for a bank transfer, built by the panel itself, and its QR
as SVG (segno). No outside image service sees the account or the memo.

Layout (NAPAS VietQR, EMVCo MPM): 00 format "01", 01 initiation ("11" static, "12" with an
amount), 38 merchant account {00 GUID A000000727, 01 {00 BIN, 01 account}, 02 QRIBFTTA},
53 currency 704, 54 amount, 58 country VN, 62 {08 purpose: the memo}, 63 CRC16-CCITT."""

import io
from decimal import Decimal

import segno

NAPAS_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"


class VietQRError(ValueError):
    pass


def crc16_ccitt(data: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over the payload up to and including "6304"."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _tlv(tag: str, value: str) -> str:
    if len(value) > 99:
        raise VietQRError(f"field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def build_payload(*, bank_bin: str, account: str, amount: Decimal | None, memo: str) -> str:
    if not (bank_bin.isdigit() and len(bank_bin) == 6):
        raise VietQRError("the bank BIN is six digits")
    if not account or len(account) > 19 or not account.isalnum():
        raise VietQRError("the account number is 1-19 letters or digits")
    if len(memo) > 25 or not memo.isascii():
        raise VietQRError("the memo is at most 25 ASCII characters")
    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    merchant = _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary) + _tlv("02", SERVICE_TO_ACCOUNT)
    parts = [_tlv("00", "01"), _tlv("01", "12" if amount else "11"), _tlv("38", merchant)]
    parts.append(_tlv("53", CURRENCY_VND))
    if amount:
        if amount <= 0 or amount != amount.to_integral_value():
            raise VietQRError("the amount is a positive whole number of dong")
        parts.append(_tlv("54", str(int(amount))))
    parts.append(_tlv("58", "VN"))
    if memo:
        parts.append(_tlv("62", _tlv("08", memo)))
    body = "".join(parts) + "6304"
    return body + crc16_ccitt(body)


def qr_svg(payload: str, *, scale: int = 5) -> str:
    """The QR as an inline <svg> element (no XML declaration), dark on white. Sized by a
    viewBox, not width and height, so the page's CSS scales the drawing with the box."""
    return segno.make(payload, error="m", micro=False).svg_inline(
        scale=scale, border=2, dark="#111827", light="#ffffff", omitsize=True
    )


def qr_png(payload: str, *, scale: int = 8) -> bytes:
    """The QR as a PNG image (for a chat, where SVG is not shown)."""
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
