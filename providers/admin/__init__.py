"""Admin for providers, the catalog and routes; importing the modules registers their admins."""

from providers.admin import catalog, categories, changes, providers, routes

__all__ = ["catalog", "categories", "changes", "providers", "routes"]
