from collections.abc import Sequence

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class ResolveForm(forms.Form):
    """One step on a mismatch's way out; the choices are those its kind and status allow."""

    to_status = forms.ChoiceField(label=_("Resolution"))
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        help_text=_("Required to write off or acknowledge: say why."),
    )

    def __init__(
        self, *args: object, choices: Sequence[tuple[str, str | Promise]], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["to_status"].choices = list(choices)  # type: ignore[attr-defined]
