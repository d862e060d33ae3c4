"""A child panel's own admin, for its owner and his staff: its customers, orders, tickets,
catalog and staff, and nothing of another panel's or the parent's (docs/child-panels.md, "Its
own admin"). `site` is served at /admin/ on every child panel's host (panel.urls_child).
"""

from accounts.models import ChildPanelStaff, User
from panel.child_panels.owner_admin import catalog, work
from panel.child_panels.owner_admin.people import CustomerAdmin, StaffAdmin
from panel.child_panels.owner_admin.site import ChildPanelAdminSite

site = ChildPanelAdminSite(name="child_admin")
site.register(User, CustomerAdmin)
site.register(ChildPanelStaff, StaffAdmin)
work.register(site)
catalog.register(site)
