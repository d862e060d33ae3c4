"""django.contrib.admin with the panel's site as `admin.site` (the dashboard on its index).

Kept out of panel/apps.py: a second AppConfig there would make the panel app's default
config ambiguous.
"""

from django.contrib.admin.apps import AdminConfig


class PanelAdminConfig(AdminConfig):
    default_site = "panel.admin_site.PanelAdminSite"
