"""The operators' digest writes every line through the catalog, in the panel's language
(PANEL_LANGUAGE), each amount in its own currency as that language writes it; rows stored by an
older panel (figures as plain text) read the same way."""

import pytest
from django.test import override_settings

from notifications.digest import digest_text
from notifications.models import Kind, Notification


def _line(kind: str, payload: dict, *, language: str) -> str:
    row = Notification(kind=kind, key=f"{kind}:1", payload=payload)
    with override_settings(LANGUAGE_CODE=language):
        text = digest_text([row])
    [item] = [line for line in text.splitlines() if line.startswith("• ")]
    return item[2:]


LOW_NOW = {
    "name": "Cheap SMM",
    "balance": {"amount": "1234.5", "currency": "USD"},
    "threshold": {"amount": "2000", "currency": "USD"},
}
LOW_BEFORE = {"name": "Cheap SMM", "balance": "1234.5 USD", "threshold": "2000"}


@pytest.mark.parametrize("payload", [LOW_NOW, LOW_BEFORE], ids=["now", "older row"])
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Cheap SMM: 1,234.50 USD (threshold 2,000.00 USD)"),
        ("vi", "Cheap SMM: 1.234,50 USD (ngưỡng 2.000,00 USD)"),
    ],
)
def test_a_low_provider_balance_reads_in_its_currency(
    payload: dict, language: str, expected: str
) -> None:
    assert _line(Kind.OPS_LOW_BALANCE, payload, language=language) == expected


def test_a_low_balance_in_dong_is_written_in_whole_dong() -> None:
    payload = {
        "name": "Nguồn VN",
        "balance": {"amount": "850000", "currency": "VND"},
        "threshold": {"amount": "1000000", "currency": "VND"},
    }
    assert _line(Kind.OPS_LOW_BALANCE, payload, language="vi") == (
        "Nguồn VN: 850.000 ₫ (ngưỡng 1.000.000 ₫)"
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "deposit #12: 250,000 ₫ (user #7)"),
        ("vi", "nạp tiền #12: 250.000 ₫ (khách #7)"),
    ],
)
def test_a_credited_deposit_reads_in_the_customers_currency(language: str, expected: str) -> None:
    # a child panel's customer in đồng, on a parent in dollars
    payload = {"deposit_id": 12, "amount": "250000", "user_id": 7, "currency": "VND"}
    assert _line(Kind.OPS_DEPOSIT, payload, language=language) == expected


@override_settings(PANEL_CURRENCY="USD")
def test_a_credited_deposit_stored_without_its_currency_reads_in_the_parents() -> None:
    payload = {"deposit_id": 12, "amount": "10.5", "user_id": 7}
    assert _line(Kind.OPS_DEPOSIT, payload, language="vi") == "nạp tiền #12: 10,50 USD (khách #7)"


@pytest.mark.parametrize(
    ("language", "stored_name", "expected"),
    [
        ("en", "Bank transfer (SePay)", "250,000 ₫ via Bank transfer (SePay) (reference 701)"),
        (
            "vi",
            "Bank transfer (SePay)",
            "250.000 ₫ qua Chuyển khoản ngân hàng (SePay) (mã giao dịch 701)",
        ),
        # rows from before the reporter's name was stored: its code
        ("en", None, "250,000 ₫ via sepay (reference 701)"),
        ("vi", None, "250.000 ₫ qua sepay (mã giao dịch 701)"),
    ],
)
def test_an_unmatched_transfer_reads_in_its_currency_and_names_its_reporter(
    language: str, stored_name: str | None, expected: str
) -> None:
    payload = {
        "deposit_id": 3,
        "reference": "701",
        "amount": "250000",
        "currency": "VND",
        "gateway": "sepay",
        **({"gateway_name": stored_name} if stored_name else {}),
    }
    assert _line(Kind.OPS_DEPOSIT_UNMATCHED, payload, language=language) == expected


def test_counts_are_grouped_as_the_language_writes_them() -> None:
    payload = {"name": "Cheap SMM", "count": 1500}
    assert _line(Kind.OPS_SERVICES_HELD, payload, language="vi") == (
        "Cheap SMM: 1.500 mục bị giữ lại"
    )
