from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        # The gateways' list registers them (payments.registry): every process knows them
        # before the first request, task or admin form reads a choice.
        import payments.gateways.registry  # noqa: F401
        import payments.memos  # noqa: F401  (the memo codes: core.memos)

        # Deposit bonuses make credit cheaper than its face: the margin guard counts them.
        from accounts.credit_bonus import credit_bonus_source_register
        from payments.services.crediting import bonus_rule_percent

        credit_bonus_source_register(source=bonus_rule_percent)
