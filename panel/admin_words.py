"""Django's own admin words whose Vietnamese the panel writes itself.

Django's Vietnamese catalog misses the newer admin strings ("Show counts", "Skip to main
content", the password-based login switch, the time spans of "3 hours ago") and words some
others oddly ("Go" as "Đi đến", "History" as "Bản ghi nhớ", "Add" as "Thêm vào"). The project
catalog comes first in LOCALE_PATHS, so an entry there wins over Django's; listing the strings
here keeps those entries in the catalog when it is re-extracted (docs/translating.md).
"""

from django.utils.translation import gettext_noop, ngettext_lazy

DJANGO_ADMIN_WORDS = (
    # Missing from Django's Vietnamese.
    gettext_noop("Select this object for an action - {}"),
    gettext_noop("Select all objects on this page for an action"),
    gettext_noop("Breadcrumbs"),
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    gettext_noop("Error:"),
    gettext_noop("Set password"),
    gettext_noop(
        "This action will <strong>enable</strong> password-based authentication for this user."
    ),
    gettext_noop("Disable password-based authentication"),
    gettext_noop("Enable password-based authentication"),
    gettext_noop("Skip to main content"),
    gettext_noop("Hide counts"),
    gettext_noop("Show counts"),
    gettext_noop("Toggle theme (current theme: auto)"),
    gettext_noop("Toggle theme (current theme: light)"),
    gettext_noop("Toggle theme (current theme: dark)"),
    gettext_noop("Added:"),
    gettext_noop("Changed:"),
    gettext_noop("Deleted:"),
    gettext_noop("Toggle navigation"),
    gettext_noop("Sidebar"),
    gettext_noop("Filter navigation items"),
    gettext_noop("View selected %(model)s"),
    gettext_noop("Reset password"),
    gettext_noop("Password-based authentication"),
    gettext_noop("Disabled"),
    gettext_noop("Raw passwords are not stored, so there is no way to see the user’s password."),
    gettext_noop("Enable password-based authentication for this user by setting a password."),
    gettext_noop("Password-based authentication was disabled."),
    gettext_noop(
        "Whether the user will be able to authenticate using a password or not. If disabled, "
        "they may still be able to authenticate using other backends, such as Single Sign-On "
        "or LDAP."
    ),
    gettext_noop("Set password: %s"),
    gettext_noop("Conflicting form data submitted. Please try again."),
    gettext_noop("Messages"),
    ngettext_lazy("%(num)d year", "%(num)d years", "num"),
    ngettext_lazy("%(num)d month", "%(num)d months", "num"),
    ngettext_lazy("%(num)d week", "%(num)d weeks", "num"),
    ngettext_lazy("%(num)d day", "%(num)d days", "num"),
    ngettext_lazy("%(num)d hour", "%(num)d hours", "num"),
    ngettext_lazy("%(num)d minute", "%(num)d minutes", "num"),
    # Present but odd.
    gettext_noop("Action:"),
    gettext_noop("Go"),
    gettext_noop("Run the selected action"),
    gettext_noop("Add"),
    gettext_noop("Add %(name)s"),
    gettext_noop("History"),
    gettext_noop("Save"),
    gettext_noop("Log out"),
    gettext_noop("Welcome,"),
    gettext_noop("Administration"),
    gettext_noop("Site administration"),
    gettext_noop("Models in the %(name)s application"),
    gettext_noop(" By %(filter_title)s "),
    gettext_noop("Past 7 days"),
    gettext_noop("Any date"),
    gettext_noop("Empty"),
    gettext_noop("Not empty"),
    gettext_noop("Recent actions"),
    gettext_noop("My actions"),
    gettext_noop("None available"),
    gettext_noop("Unknown content"),
    gettext_noop("Click here to select the objects across all pages"),
    gettext_noop("Select all %(total_count)s %(module_name)s"),
    gettext_noop("Save and continue editing"),
    gettext_noop("Save and add another"),
    ngettext_lazy("%(total_count)s selected", "All %(total_count)s selected", "total_count"),
    gettext_noop("0 of %(cnt)s selected"),
    ngettext_lazy(
        "Successfully deleted %(count)d %(items)s.",
        "Successfully deleted %(count)d %(items)s.",
        "count",
    ),
    ngettext_lazy(
        "%(count)s %(name)s was changed successfully.",
        "%(count)s %(name)s were changed successfully.",
        "count",
    ),
    gettext_noop("No action selected."),
)
