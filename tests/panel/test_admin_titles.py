"""A row's title (the admin's breadcrumbs, a deletion's list of what goes with it, a select's
options) is a sentence in the reader's language, its day written as that language writes one."""

from datetime import UTC, date, datetime

import pytest
from django.test import override_settings
from django.utils import timezone, translation

from accounts.models import FormSubmission, RecoveryCode, TwoFactorDevice
from affiliates.models import ReferralChange, ReferralFlag, SignupTrace
from bot.models import BotUpdate
from orders.models import PollLease
from panel.models import DayCustomerFigures, DayServiceFigures, RollupState
from payments.models import TransferReport
from providers.models import ProviderCall

DAY = date(2026, 12, 6)
TITLES = [
    (
        TwoFactorDevice(user_id=5),
        "Two-factor device of user #5",
        "Thiết bị xác thực hai lớp của người dùng #5",
    ),
    (RecoveryCode(user_id=5), "Recovery code of user #5", "Mã khôi phục của người dùng #5"),
    (
        FormSubmission(user_id=5, token="abcdef0123456789"),
        "Form abcdef01… of user #5",
        "Biểu mẫu abcdef01… của người dùng #5",
    ),
    (
        ReferralFlag(referral_id=3, reason=ReferralFlag.Reason.SAME_PAYER_NAME),
        "Same bank account holder name on referral #3",
        "Cùng tên chủ tài khoản ở lượt giới thiệu #3",
    ),
    (
        ReferralChange(referred_id=5, old_referrer_id=None, new_referrer_id=9),
        "Referrer of user #5: — → #9",
        "Người giới thiệu của người dùng #5: — → #9",
    ),
    (SignupTrace(user_id=5), "Sign-up of user #5", "Lượt đăng ký của người dùng #5"),
    (BotUpdate(update_id=77), "Telegram update 77", "Cập nhật Telegram 77"),
    (
        DayServiceFigures(day=DAY, service_id=4),
        "2026-12-06, service 4",
        "06/12/2026, dịch vụ 4",
    ),
    (DayCustomerFigures(day=DAY, user_id=5), "2026-12-06, user #5", "06/12/2026, khách #5"),
    (RollupState(rolled_until=None), "Nothing rolled up yet", "Chưa tổng hợp lần nào"),
    (
        PollLease(holder="w1", model="order", until=datetime(2026, 12, 6, 3, 4, 5, tzinfo=UTC)),
        "w1: order until 03:04:05",
        "w1: order đến 03:04:05",
    ),
    (
        TransferReport(gateway="casso", external_id="8801", deposit_id=12),
        "Bank transfer (Casso) 8801, reported again for deposit #12",
        None,  # the gateway's label is the catalog's: checked by its prefix below
    ),
]


@pytest.mark.parametrize(("row", "english", "vietnamese"), TITLES)
def test_a_rows_title_is_written_in_the_readers_language(
    row: object, english: str, vietnamese: str | None
) -> None:
    with translation.override("en"):
        assert str(row) == english
    with translation.override("vi"):
        title = str(row)
    if vietnamese is not None:
        assert title == vietnamese
    else:
        assert title.endswith("8801, báo trùng cho khoản nạp #12")


def test_a_provider_calls_title_names_its_outcome_and_groups_its_milliseconds() -> None:
    call = ProviderCall(action="add", result=ProviderCall.Outcome.OK, duration_ms=1234)
    with translation.override("en"):
        assert str(call) == "add: Accepted in 1,234 ms"
    with translation.override("vi"):
        accepted = str(ProviderCall.Outcome.OK.label)
        assert str(call) == f"add: {accepted} trong 1.234 ms"


def test_the_rollups_title_says_until_when_in_the_readers_notation() -> None:
    state = RollupState(rolled_until=datetime(2026, 12, 6, 1, 30, tzinfo=UTC))
    with translation.override("en"), timezone.override("UTC"):
        assert str(state) == "Rolled up until 2026-12-06 01:30"
    with translation.override("vi"), timezone.override("UTC"):
        assert str(state) == "Đã tổng hợp đến 06/12/2026 01:30"


@override_settings(TIME_ZONE="Asia/Ho_Chi_Minh")
def test_a_poll_leases_title_reads_its_time_in_the_panels_time_zone() -> None:
    lease = PollLease(holder="w1", model="order", until=datetime(2026, 12, 6, 3, 4, 5, tzinfo=UTC))

    assert str(lease) == "w1: order until 10:04:05"
