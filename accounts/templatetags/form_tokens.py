from django import template
from django.utils.html import format_html

from accounts.form_tokens import FIELD, form_token_new

register = template.Library()


@register.simple_tag
def form_token() -> str:
    """A hidden input with a fresh one-time token for a form that must act only once."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, form_token_new())
