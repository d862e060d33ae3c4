"""Admin for providers, the catalog and routes; importing the modules registers their admins."""

from providers.admin import catalog, providers, routes

__all__ = ["catalog", "providers", "routes"]
