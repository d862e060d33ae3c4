from django import forms
from django.utils.translation import gettext_lazy as _

from support.models import OrderRequest, TicketKind
from support.services import MAX_BODY


class TicketForm(forms.Form):
    kind = forms.ChoiceField(label=_("Subject"), choices=TicketKind.choices)
    request = forms.ChoiceField(
        label=_("Request"), choices=[("", "—"), *OrderRequest.choices], required=False
    )
    order_ids = forms.CharField(
        label=_("Order IDs"),
        required=False,
        max_length=500,
        help_text=_("One or more of your order IDs, separated by commas."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "123, 456"}),
    )
    payment_reference = forms.CharField(
        label=_("Transaction reference"), required=False, max_length=120
    )
    subject = forms.CharField(
        label=_("Title"),
        required=False,
        max_length=120,
        help_text=_("Optional for order tickets: the request and the order IDs are used."),
    )
    message = forms.CharField(
        label=_("Message"), max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 6})
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"), max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 4})
    )
