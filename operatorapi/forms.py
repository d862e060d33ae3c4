from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from operatorapi.models import Scope
from operatorapi.services import InvalidNetwork, parse_networks


class StaffApiKeyForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        help_text=_("The key can never do more than this staff user's permissions allow."),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What uses the key, e.g. “Support bot”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=Scope.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked for everything the owner may do; tick some to narrow it."),
    )
    allowed_networks = forms.CharField(
        label=_("Allowed addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "203.0.113.7\n10.0.0.0/8"}),
        help_text=_("One address or network (CIDR) per line; empty allows any address."),
    )

    def __init__(self, *args: Any, creator: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owners = User.objects.filter(is_staff=True, is_active=True).order_by("username")
        if not creator.is_superuser:
            # Staff create keys for themselves only.
            owners = owners.filter(pk=creator.pk)
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, forms.ModelChoiceField)
        owner_field.queryset = owners
        owner_field.initial = creator.pk

    def clean_allowed_networks(self) -> list[str]:
        try:
            return parse_networks(self.cleaned_data["allowed_networks"])
        except InvalidNetwork as exc:
            raise forms.ValidationError(
                _("Not an address or network: %(item)s") % {"item": exc.item}
            ) from None
