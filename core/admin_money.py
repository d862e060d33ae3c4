"""Money in the admin as operators read it: "750.000 ₫" in Vietnamese, "30.00 USD" in English,
never the stored "750000,000000".

Django's admin writes a DecimalField with every stored place (`display_for_field`), and has no
hook per field. So the admin sites give every ModelAdmin `MoneyShown` (`with_money_shown`): a
money field the admin shows read-only (a list column, a read-only field, every field of a
view-only page) is swapped for a `<field>_shown` column that writes it through core.money in
the reader's language. A field the operator edits stays an exact decimal input, written
without the zeros six stored places pad it with (`ExactInput`).

Which currency a field is in is the admin's to say (`money_currencies`); unsaid, an amount is in
the panel's currency, and a decimal with more places than money (an exchange rate) is a plain
number with every stored digit.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from core.money import MONEY_PLACES, money_shown, money_str, number_shown

SHOWN = "_shown"


@dataclass(frozen=True)
class Money:
    """How one field is written: `currency` names the row's attribute holding its currency
    ("currency", "provider.currency"; "" for the panel's); `exact` keeps every stored digit
    (a price per 1000 or per unit is finer than the unit of money)."""

    currency: str = ""
    exact: bool = False


# A plain number with every stored digit: an exchange rate ("25.000", "1,03").
NUMBER = None
Spec = Money | None


def _currency_of(obj: object, path: str) -> str:
    value: Any = obj
    for name in path.split("."):
        value = getattr(value, name, None)
        if value is None:
            return ""
    return str(value)


def _default_spec(field: models.Field) -> Spec | bool:
    """False for a field that is not money; else how it is written when the admin says nothing."""
    if not isinstance(field, models.DecimalField) or field.decimal_places < MONEY_PLACES:
        return False
    return Money() if field.decimal_places == MONEY_PLACES else NUMBER


def money_display(field: models.Field, spec: Spec, empty: str) -> Callable[[object], str]:
    """A column writing `field` as `spec` says, titled and sorted as the field itself."""
    name = field.name

    def shown(obj: object) -> str:
        value: Decimal | None = getattr(obj, name)
        if value is None:
            return empty
        if spec is None:
            return number_shown(value)
        currency = _currency_of(obj, spec.currency) if spec.currency else ""
        return money_shown(value, currency=currency, exact=spec.exact)

    return admin.display(description=field.verbose_name, ordering=name)(shown)


class ExactInput(forms.NumberInput):
    """An editable amount as stored, without the zeros its six places pad it with ("1000",
    "2.1875" rather than "1000.000000"): exact, so saving the page changes nothing."""

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, Decimal):
            return money_str(value)
        return super().format_value(value)


class MoneyShown:
    """ModelAdmin mixin (an inline takes it by hand): the money it shows read-only, written as
    money."""

    # An admin says how its fields are written, where the default (module docstring) is
    # wrong, in `money_currencies = {field name: Money(...) or NUMBER}`: read with getattr,
    # since this mixin comes first in the bases with_money_shown builds.
    model: type[models.Model]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        empty = str(self.get_empty_value_display())  # type: ignore[attr-defined]
        self._money_names: set[str] = set()
        said: dict[str, Spec] = getattr(self, "money_currencies", {})
        for field in self.model._meta.fields:
            spec = said.get(field.name, _default_spec(field))
            if spec is False:
                continue
            self._money_names.add(field.name)
            # An admin may write its own `<field>_shown` (the orders' columns): it is used.
            if not hasattr(self, field.name + SHOWN):
                setattr(self, field.name + SHOWN, money_display(field, spec, empty))  # type: ignore[arg-type]

    def _shown(
        self, names: Sequence[Any], swap: Callable[[str], bool] = lambda _name: True
    ) -> list:
        return [
            name + SHOWN
            if isinstance(name, str) and name in self._money_names and swap(name)
            else name
            for name in names
        ]

    def formfield_for_dbfield(
        self, db_field: models.Field, request: HttpRequest, **kwargs: Any
    ) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if db_field.name in self._money_names and isinstance(formfield, forms.DecimalField):
            if type(formfield.widget) is forms.NumberInput:
                formfield.widget = ExactInput(attrs=formfield.widget.attrs)
        return formfield

    def get_list_display(self, request: HttpRequest) -> Sequence[Any]:
        names = super().get_list_display(request)  # type: ignore[misc]
        editable = set(getattr(self, "list_editable", ()))
        return self._shown(names, lambda name: name not in editable)

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> Sequence[str]:
        return self._shown(super().get_readonly_fields(request, obj))  # type: ignore[misc]

    def get_exclude(self, request: HttpRequest, obj: object = None) -> Sequence[str] | None:
        # Django leaves a read-only field out of the form; swapped for its `_shown` column, the
        # field itself has to be left out by name, or it would come back as an input.
        excluded = super().get_exclude(request, obj)  # type: ignore[misc]
        readonly = super().get_readonly_fields(request, obj)  # type: ignore[misc]
        swapped = [name for name in readonly if name in self._money_names]
        return [*(excluded or ()), *swapped] if swapped else excluded

    def get_fieldsets(self, request: HttpRequest, obj: object = None) -> list:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        # Declared fieldsets name the fields themselves: a read-only one is swapped as
        # get_readonly_fields swaps it (else the form would offer it for editing). A page the
        # reader may only view shows every field read-only (Django's change view), so there
        # every money field is swapped; elsewhere an editable field stays an input.
        if obj is not None and not self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            readonly = self._money_names
        else:
            readonly = set(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return [
            (title, {**options, "fields": self._fieldset_names(options["fields"], readonly)})
            for title, options in fieldsets
        ]

    def _fieldset_names(self, names: Sequence[Any], readonly: set[str]) -> list:
        def swap(name: str) -> bool:
            return name in readonly

        # A fieldset line may hold a tuple of fields shown side by side.
        return [
            tuple(self._shown(name, swap))
            if isinstance(name, list | tuple)
            else self._shown([name], swap)[0]
            for name in names
        ]


def with_money_shown(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """`admin_class` with MoneyShown first in its bases (once)."""
    if issubclass(admin_class, MoneyShown):
        return admin_class
    return type(
        admin_class.__name__,
        (MoneyShown, admin_class),
        {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
    )


class MoneySite(admin.AdminSite):
    """An admin site whose every ModelAdmin writes the money it shows as money."""

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        super().register(
            model_or_iterable, with_money_shown(admin_class or admin.ModelAdmin), **options
        )
