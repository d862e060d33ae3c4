from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and ledger"

    def ready(self) -> None:
        # Every process knows the memo codes before it shows a stored line (core.memos).
        import accounts.memos  # noqa: F401
