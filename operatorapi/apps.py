from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperatorApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "operatorapi"
    verbose_name = _("Operator API")
