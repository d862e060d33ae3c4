from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and ledger")

    def ready(self) -> None:
        # Every process knows the memo codes before it shows a stored line (core.memos).
        import accounts.memos  # noqa: F401
