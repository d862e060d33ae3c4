"""Vietnamese phone numbers as people type them (core/phones.py)."""

import pytest

from core.phones import NotAPhoneNumber, phone_dial_string, vn_mobile_normalize


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("091.234.5678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("+84-369-123-456", "0369123456"),
        ("84587654321", "0587654321"),
        ("(+84) 789 000 111", "0789000111"),
        (" 0868123456 ", "0868123456"),
    ],
)
def test_vn_mobile_normalize_accepts_the_ways_people_write_a_mobile(
    typed: str, stored: str
) -> None:
    assert vn_mobile_normalize(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "091234567",  # a digit short
        "09123456789",  # a digit long
        "0212345678",  # 02x is a landline, not a mobile
        "0112345678",
        "+1 415 555 0100",  # not Vietnamese
        "+840912345678",  # the 0 kept after +84
        "0912abc678",
        "１２３",
    ],
)
def test_vn_mobile_normalize_refuses_what_is_not_a_vietnamese_mobile(typed: str) -> None:
    with pytest.raises(NotAPhoneNumber):
        vn_mobile_normalize(typed)


@pytest.mark.parametrize(
    ("typed", "dialled"),
    [
        ("1900 6868", "19006868"),
        ("028.3822.1234", "02838221234"),
        ("+84 909 123 456", "+84909123456"),
    ],
)
def test_phone_dial_string_takes_hotlines_and_landlines(typed: str, dialled: str) -> None:
    assert phone_dial_string(typed) == dialled


@pytest.mark.parametrize("typed", ["113", "call us", "1900-68-68-x", "+" + "1" * 16])
def test_phone_dial_string_refuses_what_cannot_be_dialled(typed: str) -> None:
    with pytest.raises(NotAPhoneNumber):
        phone_dial_string(typed)
