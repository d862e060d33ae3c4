"""What the operator's commands answer is in the panel's language (docs/translating.md), as
every other word a person reads."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_a_clean_ledger_is_said_in_vietnamese() -> None:
    out = io.StringIO()
    with translation.override("vi"):
        call_command("check_ledger", stdout=out)
    assert out.getvalue().startswith("sổ sách khớp: mọi số dư")


def test_a_refusal_names_what_was_asked_in_vietnamese() -> None:
    with (
        translation.override("vi"),
        pytest.raises(CommandError, match="^Không có nhà cung cấp nào tên 'nowhere'$"),
    ):
        call_command("sync_catalog", provider="nowhere")


def test_a_restore_asks_and_refuses_in_vietnamese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "n")
    dump = tmp_path / "panel.dump"
    with translation.override("vi"), pytest.raises(CommandError, match="^Không khôi phục gì$"):
        call_command("restore_db", str(dump))
    assert asked == [f"Ghi đè cơ sở dữ liệu bằng {dump}? [y/N] "]


def test_a_reconciliation_refuses_a_bad_date_in_vietnamese() -> None:
    with (
        translation.override("vi"),
        pytest.raises(CommandError, match="^--date phải có dạng YYYY-MM-DD, không phải '06/12'$"),
    ):
        call_command("reconcile_providers", date="06/12")
