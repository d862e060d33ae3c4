from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PanelConfig(AppConfig):
    name = "panel"
    verbose_name = _("Panel")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.backends.signals import connection_created

        from core.db.adapters import load_timestamps_in_c
        from panel.contact import support_contacts
        from panel.language import keep_visitor_language

        # A support contact its channel cannot open stops the process here, not at a click.
        support_contacts()

        user_logged_in.connect(keep_visitor_language, dispatch_uid="panel_keep_visitor_language")
        connection_created.connect(load_timestamps_in_c, dispatch_uid="core_db_timestamps_in_c")
