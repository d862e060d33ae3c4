"""Shapes of the customer order forms. They render inputs and keep what was typed; every rule
(limits, links, per-type fields) lives in orders.type_rules, applied by the order services."""

from typing import TYPE_CHECKING

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from orders.type_rules import RULES, SUBSCRIPTION_DELAYS
from providers.models import ServiceType

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SUBSCRIPTION_FIELDS = ("username", "min", "max", "posts", "old_posts", "delay", "expiry")
DRIPFEED_FIELDS = ("runs", "interval")


def _text(placeholder: object = "", **attrs: object) -> forms.TextInput:
    return forms.TextInput(attrs={"placeholder": placeholder, "autocomplete": "off", **attrs})


def _number(placeholder: object = "", **attrs: object) -> forms.NumberInput:
    return forms.NumberInput(
        attrs={"placeholder": placeholder, "inputmode": "numeric", "min": 0, **attrs}
    )


def _lines(placeholder: object) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": 5, "placeholder": placeholder, "data-count-lines": "1"})


def _field(
    label: "StrOrPromise", widget: forms.Widget, help_text: "StrOrPromise" = ""
) -> forms.CharField:
    # Never required and never validated here: the service answers for the chosen type.
    return forms.CharField(
        label=label, widget=widget, required=False, strip=False, help_text=help_text
    )


def _minutes_text(minutes: int) -> str:
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


# Choices are built once, at import: the label is translated when a page shows it.
_minutes = lazy(_minutes_text, str)


def _delay_choices() -> list[tuple[str, object]]:
    return [
        (
            str(minutes),
            _("No delay") if minutes == 0 else _minutes(minutes),
        )
        for minutes in SUBSCRIPTION_DELAYS
    ]


class OrderForm(forms.Form):
    link = _field(
        _("Link"), _text("https://…", inputmode="url", autocapitalize="off", spellcheck="false")
    )
    quantity = _field(_("Quantity"), _number("1000"))
    comments = _field(
        _("Comments"),
        _lines(_("One comment per line")),
        _("One comment per line: the quantity is the number of lines."),
    )
    usernames = _field(
        _("Usernames"), _lines(_("One username per line")), _("One username per line.")
    )
    hashtags = _field(_("Hashtags"), _lines(_("One hashtag per line")), _("One hashtag per line."))
    hashtag = _field(_("Hashtag"), _text("#hashtag"))
    # The social account's name: its own word in Vietnamese ("Tên người dùng", as Instagram and
    # TikTok write it), apart from the panel login's "Tên đăng nhập".
    username = _field(
        pgettext_lazy("social account", "Username"),
        _text(pgettext_lazy("social account", "username"), autocapitalize="off"),
    )
    # The metaclass moves declared fields out of the class attributes, so this does not replace
    # the form\'s `media` property; the stubs see a plain class attribute.
    media = _field(_("Media link"), _text("https://…", inputmode="url", autocapitalize="off"))  # type: ignore[assignment]
    answer_number = _field(
        _("Answer number"), _number("1", min=1), _("The number of the poll answer to vote for.")
    )
    groups = _field(_("Groups"), _lines(_("One group per line")), _("One group per line."))
    keywords = _field(_("Keywords"), _lines(_("One keyword per line")), _("One keyword per line."))
    runs = _field(_("Runs"), _number("2", min=2), _("How many times to deliver the quantity."))
    interval = _field(_("Interval (minutes)"), _number("30", min=1), _("Minutes between two runs."))
    min = _field(_("Minimum per post"), _number("100", min=1))
    max = _field(_("Maximum per post"), _number("200", min=1))
    posts = _field(
        _("Posts"),
        _number("10", min=1),
        _("How many new posts to deliver to: the charge is max × posts."),
    )
    old_posts = _field(
        _("Old posts"), _number("0"), _("How many existing posts to deliver to as well.")
    )
    delay = _field(_("Delay"), forms.Select(choices=_delay_choices()))
    expiry = _field(
        _("Expiry"), _text("dd/mm/yyyy", inputmode="numeric"), _("Optional, dd/mm/yyyy.")
    )

    def show_error(self, *, field: str, detail: str, service_type: str | None) -> bool:
        """Put `detail` beside the input that caused it; False when no visible input fits."""
        target = error_target(field=field, detail=detail, service_type=service_type)
        if target is None:
            return False
        self.is_valid()  # add_error needs cleaned_data; every field is optional text
        self.add_error(target, detail)
        return True


class MassOrderForm(forms.Form):
    orders = forms.CharField(
        label=_("Orders"),
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 12,
                "placeholder": "1 | https://instagram.com/p/abc | 1000\n2 | https://youtube.com/watch?v=xyz | 500",
                "spellcheck": "false",
                "autocapitalize": "off",
            }
        ),
    )


def type_layout(service_type: str) -> dict:
    """Which inputs a service type uses; the order form shows only those (see order-form.js)."""
    rule = RULES[service_type]
    if service_type == ServiceType.SUBSCRIPTIONS:
        fields = list(SUBSCRIPTION_FIELDS)
    else:
        fields = (["link"] if rule.needs_link else []) + (
            ["quantity"] if rule.takes_quantity else []
        )
        fields += list(rule.required)
    return {
        "fields": fields,
        "counted": rule.quantity_from if rule.quantity_from in rule.line_fields else "",
        "package": rule.is_package,
        "subscription": service_type == ServiceType.SUBSCRIPTIONS,
        "dripfeed": service_type == ServiceType.DEFAULT,
    }


def type_layouts() -> dict[str, dict]:
    return {service_type: type_layout(service_type) for service_type in RULES}


def error_target(*, field: str, detail: str, service_type: str | None) -> str | None:
    """The input an order error belongs beside, or None to show it above the form."""
    if service_type is None or field not in OrderForm.base_fields:
        return None
    layout = type_layout(service_type)
    if layout["counted"] and field == "quantity":
        return layout["counted"]  # the quantity is the number of lines there
    if field in layout["fields"] or (layout["dripfeed"] and field in DRIPFEED_FIELDS):
        return field
    return None
