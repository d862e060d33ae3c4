"""Seed the demo once: an admin, a customer and a reseller with balances (through the ledger),
the sandbox registered as a provider with its catalog imported, and a few orders of several
types so a newcomer sees a living panel. Later runs only print the URLs and logins."""

import re
import secrets
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import PricingTier, User
from accounts.services import api_key_create, user_create_customer, user_set_phone
from core.commands import OperatorCommand
from core.errors import PanelError, error_display
from orders.models import Source
from orders.scorecard import service_scores_refresh
from orders.services import order_place, product_order_place
from panel.dashboard.rollup import dashboard_rollup
from panel.demo_affiliates import seed_demo_affiliates
from panel.demo_history import seed_demo_history
from panel.demo_money import demo_amount, demo_dollar_rate
from panel.models import Notice
from payments.models import BankAccount, GatewaySettings, Method
from providers.client import ProviderClient
from providers.errors import ProviderError, ProviderUnavailable
from providers.models import Product, Provider, Service, ServiceType
from providers.services import catalog_sync, provider_create

ADMIN = ("admin", "admin12345")
CUSTOMER = ("demo", "demo12345")
RESELLER = ("reseller", "reseller12345")
_WHO = ("username", "password")
# (English name, Vietnamese name, percent off, unlocks child panels), lowest first.
DEMO_RANKS = [
    ("Member", "Thành viên", "0", False),
    ("Collaborator", "CTV", "3", False),
    ("Agency", "Đại lý", "6", True),
    ("VIP", "VIP", "10", True),
]
DEMO_RANKS_VND = [Decimal(0), Decimal(1_000_000), Decimal(5_000_000), Decimal(20_000_000)]
DEMO_RANKS_USD = [Decimal(0), Decimal(50), Decimal(200), Decimal(1000)]
# The operator's notices in both languages (panel.models.Notice), by kind: Markdown.
DEMO_NOTICES = {
    Notice.Kind.ANNOUNCEMENT: (
        "**Khuyến mãi tháng này:** tặng thêm 5% khi nạp từ 500.000 ₫. [Nạp tiền ngay](/add-funds/)",
        "**This month:** 5% extra on deposits of 500,000 ₫ or more. [Add funds](/add-funds/)",
    ),
    Notice.Kind.DEPOSIT_GUIDE: (
        "**Hướng dẫn nạp tiền**\n\n"
        "1. Quét mã QR bằng ứng dụng ngân hàng, hoặc chuyển khoản thủ công.\n"
        "2. Ghi **đúng nội dung chuyển khoản** bên dưới: tiền được cộng tự động sau 1–3 phút.\n"
        "3. Quá 10 phút chưa nhận được? Hãy nhắn Zalo hỗ trợ kèm ảnh biên lai.",
        "**How to add funds**\n\n"
        "1. Scan the QR code with your banking app, or transfer by hand.\n"
        "2. Keep the **transfer content exactly** as shown below: the money is credited "
        "within 1–3 minutes.\n"
        "3. Nothing after 10 minutes? Message support on Zalo with your receipt.",
    ),
    Notice.Kind.TERMS: (
        "## 1. Dịch vụ\n\nChúng tôi cung cấp dịch vụ tăng tương tác mạng xã hội. "
        "Kết quả phụ thuộc vào nền tảng và có thể thay đổi.\n\n"
        "## 2. Hoàn tiền\n\nĐơn hủy hoặc hoàn một phần được hoàn tiền vào số dư. "
        "Không hoàn tiền cho đơn sai link hoặc tài khoản để riêng tư.\n\n"
        "## 3. Bảo hành\n\nDịch vụ có bảo hành được bảo hành trong số ngày ghi ở dịch vụ.",
        "## 1. Service\n\nWe provide social media engagement services. Results depend on "
        "the platforms and may change.\n\n"
        "## 2. Refunds\n\nCanceled and partial orders are refunded to your balance. Orders "
        "with a wrong link or a private account are not refunded.\n\n"
        "## 3. Warranty\n\nServices with a warranty are refilled for the days the service "
        "states.",
    ),
}
DEMO_ORDERS = [
    (ServiceType.DEFAULT, {"link": "https://www.instagram.com/p/demo-post/", "quantity": "1000"}),
    (ServiceType.DEFAULT, {"link": "https://www.youtube.com/watch?v=demo", "quantity": "2500"}),
    (ServiceType.DEFAULT, {"link": "https://www.tiktok.com/@demo/video/1", "quantity": "5000"}),
    (ServiceType.PACKAGE, {"link": "https://t.me/demo_channel"}),
    (
        ServiceType.CUSTOM_COMMENTS,
        {
            "link": "https://www.instagram.com/p/demo-post/",
            "comments": "Great post!\nLove it\nAmazing 🔥",
        },
    ),
    (
        ServiceType.POLL,
        {"link": "https://t.me/demo_channel/42", "quantity": "500", "answer_number": "2"},
    ),
]


def _fit_to_limits(service: Service, fields: dict[str, str]) -> dict[str, str]:
    """Demo quantities and comment counts brought inside the service's min and max."""
    fields = dict(fields)
    if "quantity" in fields:
        fields["quantity"] = str(min(max(int(fields["quantity"]), service.min), service.max))
    if "comments" in fields:
        lines = fields["comments"].split("\n")
        count = min(max(len(lines), service.min), service.max)
        fields["comments"] = "\n".join((lines * count)[:count])
    return fields


class Command(OperatorCommand):
    summary = _(
        "Seed demo data once (users, the sandbox provider and its catalog, a few orders) and print how to log in."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:9100/api/v2")
        parser.add_argument("--sandbox-key", default="sandbox-key")
        parser.add_argument("--web-url", default="http://127.0.0.1:8000/")
        parser.add_argument(
            "--wait",
            type=float,
            default=30.0,
            help=gettext("Seconds to wait for the sandbox to answer"),
        )
        parser.add_argument(
            "--logins-file",
            default="",
            help=gettext(
                "Also write the welcome (with the API keys shown once) to this file: the "
                "terminal scrolls it away within seconds"
            ),
        )

    def handle(self, *args: object, **options: Any) -> None:
        keys: dict[str, str] = {}
        if not PricingTier.objects.exists():
            self._seed_ranks()
        if not User.objects.filter(username=ADMIN[0]).exists():
            keys = self._seed_users()
        if not Provider.objects.exists():
            self._wait_for(
                str(options["sandbox_url"]), str(options["sandbox_key"]), float(options["wait"])
            )
            self._seed_catalog(str(options["sandbox_url"]), str(options["sandbox_key"]))
            self._seed_orders()
            self._seed_history()
        if not GatewaySettings.objects.filter(method=Method.BANK, child_panel=None).exists():
            self._seed_bank_gateway()
        seed_demo_affiliates(affiliate=CUSTOMER[0])
        if not Notice.objects.filter(is_active=True).exists():
            self._seed_notices()
        self._print_welcome(str(options["web_url"]), keys, str(options["logins_file"]))

    def _seed_ranks(self) -> None:
        """The ranks Vietnamese panels use, by total deposits, with thresholds in the panel's
        currency (VND, else USD-sized figures)."""
        steps = DEMO_RANKS_VND if settings.PANEL_CURRENCY == "VND" else DEMO_RANKS_USD
        for (name, name_vi, percent, unlocks), threshold in zip(DEMO_RANKS, steps, strict=True):
            PricingTier.objects.create(
                name=name,
                name_vi=name_vi,
                threshold=threshold,
                percent_off=Decimal(percent),
                unlocks_child_panels=unlocks,
            )
        self.stdout.write(
            gettext("seeded the ranks: %(ranks)s")
            % {"ranks": " → ".join(rank[1] for rank in DEMO_RANKS)}
        )

    def _seed_notices(self) -> None:
        """The operator's notices, filled in and shown, so the demo has them to edit."""
        for kind, (body_vi, body_en) in DEMO_NOTICES.items():
            Notice.objects.update_or_create(
                kind=kind, defaults={"body_vi": body_vi, "body_en": body_en, "is_active": True}
            )
        self.stdout.write(
            gettext("seeded the notices: announcement, deposit guide, terms of service")
        )

    def _seed_bank_gateway(self) -> None:
        """Two demo bank accounts for the add-funds page's tabs, and a SePay key for
        simulate_transfer."""
        BankAccount.objects.create(
            bank_bin="970436", account_number="0011001800879", holder="SMM PANEL DEMO"
        )
        BankAccount.objects.create(
            bank_bin="970422", account_number="0901234567", holder="SMM PANEL DEMO", position=1
        )
        demo = GatewaySettings(
            method=Method.BANK,
            rate=Decimal(25000) if settings.PANEL_CURRENCY != "VND" else Decimal(1),
            min_amount=Decimal(10000),
            transfer_prefix="NAP",
        )
        demo.secrets = {"sepay_api_key": secrets.token_urlsafe(24)}
        demo.save()

    def _seed_users(self) -> dict[str, str]:
        with transaction.atomic():
            User.objects.create_superuser(
                username=ADMIN[0], password=ADMIN[1], email="admin@example.com"
            )
            customer = user_create_customer(
                username=CUSTOMER[0],
                password=CUSTOMER[1],
                email="demo@example.com",
                balance=demo_amount(50),
            )
            user_set_phone(user=customer, phone="0912345678")
            reseller = user_create_customer(
                username=RESELLER[0],
                password=RESELLER[1],
                email="reseller@example.com",
                balance=demo_amount(250),
            )
            return {RESELLER[0]: api_key_create(user=reseller)}

    def _wait_for(self, url: str, key: str, seconds: float) -> None:
        client = ProviderClient(api_url=url, api_key=key, connect_timeout=2, read_timeout=5)
        deadline = time.monotonic() + seconds
        while True:
            try:
                client.balance()
                return
            except ProviderUnavailable as exc:
                if time.monotonic() > deadline:
                    raise CommandError(
                        gettext("The sandbox provider at %(url)s does not answer: %(error)s")
                        % {"url": url, "error": error_display(exc)}
                    ) from exc
                time.sleep(0.5)

    def _seed_catalog(self, url: str, key: str) -> None:
        try:
            # The sandbox bills in dollars: a panel in another currency needs the rate.
            rate = demo_dollar_rate()
            provider = provider_create(
                name="Sandbox", api_url=url, api_key=key, exchange_rate=rate if rate != 1 else None
            )
            summary = catalog_sync(provider=provider)
        except ProviderError as exc:
            raise CommandError(
                gettext("Could not import the sandbox catalog: %(error)s")
                % {"error": error_display(exc)}
            ) from exc
        # The refill rules are the operator's (the sync imports only `has_refill`): the demo
        # gives each refill service the warranty its name promises ("[Refill 30D]"; "Lifetime"
        # has no limit), else 30 days.
        for service in Service.objects.filter(provider=provider, has_refill=True):
            days = re.search(r"refill\s*(\d+)\s*d", service.name, re.IGNORECASE)
            lifetime = "lifetime" in service.name.lower()
            service.warranty_days = int(days.group(1)) if days else None if lifetime else 30
            service.save(update_fields=["warranty_days"])
        self.stdout.write(
            gettext("imported the sandbox catalog: %(summary)s") % {"summary": summary}
        )

    def _seed_orders(self) -> None:
        customer = User.objects.get(username=CUSTOMER[0])
        placed = 0
        for service_type, fields in DEMO_ORDERS:
            service = Service.objects.on_sale().filter(type=service_type).order_by("pk").first()
            if service is None:
                continue
            fields = _fit_to_limits(service, fields)
            try:
                with transaction.atomic():
                    order_place(
                        user=customer, service_id=service.pk, fields=fields, source=Source.WEB
                    )
                placed += 1
            except PanelError as exc:
                self.stderr.write(
                    gettext("demo order for %(service)s: %(error)s")
                    % {"service": service, "error": error_display(exc)}
                )
        product = Product.objects.filter(is_enabled=True, is_in_stock=True).order_by("pk").first()
        if product is not None:
            with transaction.atomic():
                product_order_place(
                    user=customer,
                    product_id=product.pk,
                    quantity=product.min,
                    require="demo@example.com",
                )
        self.stdout.write(
            ngettext(
                "placed %(count)s demo order and a product order for the customer",
                "placed %(count)s demo orders and a product order for the customer",
                placed,
            )
            % {"count": placed}
        )

    def _seed_history(self) -> None:
        """30 days of finished orders and deposits, rolled up for the admin dashboard."""
        made = seed_demo_history(days=30)
        rollup = dashboard_rollup(full=True)
        scores = service_scores_refresh()
        self.stdout.write(
            ngettext(
                "added %(count)s finished order over 30 days; %(rollup)s; scorecard: "
                "%(services)s services, %(routes)s routes",
                "added %(count)s finished orders over 30 days; %(rollup)s; scorecard: "
                "%(services)s services, %(routes)s routes",
                made,
            )
            % {
                "count": made,
                "rollup": rollup,
                "services": scores.services,
                "routes": scores.routes,
            }
        )

    def _print_welcome(self, web_url: str, keys: dict[str, str], logins_file: str) -> None:
        base = web_url.rstrip("/")
        login = gettext("login %(username)s / %(password)s")
        # (label, address, note): the columns are aligned on the widest label and address.
        rows = [
            (gettext("Panel"), f"{base}/", ""),
            (gettext("Admin"), f"{base}/admin/", login % dict(zip(_WHO, ADMIN, strict=True))),
            (gettext("Customer"), f"{base}/login/", login % dict(zip(_WHO, CUSTOMER, strict=True))),
            (gettext("Reseller"), f"{base}/login/", login % dict(zip(_WHO, RESELLER, strict=True))),
            (gettext("API"), f"{base}/api/v2", ""),
        ]
        key_lines = [
            gettext("API key of %(name)s (shown once): %(key)s") % {"name": name, "key": key}
            for name, key in keys.items()
        ]
        rows_after = [
            (
                gettext("Add funds"),
                f"{base}/add-funds/",
                gettext("(bank transfer with VietQR, as %(username)s)") % {"username": CUSTOMER[0]},
            ),
            (
                gettext("Pay it"),
                f".venv/bin/python manage.py simulate_transfer {CUSTOMER[0]} 100000 --url {base}",
                "",
            ),
        ]
        saved = Path(logins_file) if logins_file else None
        if saved is not None and not keys and saved.exists():
            rows_after.append(
                (gettext("Logins"), str(saved), gettext("(the logins and keys as first shown)"))
            )
        label_width = max(len(row[0]) for row in rows + rows_after)
        address_width = max(len(row[1]) for row in rows + rows_after if row[2])

        def line(label: str, address: str, note: str) -> str:
            text = (
                f"{label.ljust(label_width)} {address.ljust(address_width)} {note}"
                if note
                else f"{label.ljust(label_width)} {address}"
            )
            return f"  {text.rstrip()}"

        lines = ["", "=" * 64, *(line(*row) for row in rows)]
        lines += [f"  {text}" for text in key_lines]
        lines += [line(*row) for row in rows_after]
        lines += ["=" * 64, ""]
        welcome = "\n".join(lines)
        self.stdout.write(welcome)
        if saved is not None and keys:
            # The keys exist only here and in this file: the database keeps their hashes.
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(welcome.strip("\n") + "\n", encoding="utf-8")
            saved.chmod(0o600)
