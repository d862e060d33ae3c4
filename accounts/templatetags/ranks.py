from django import template
from django.conf import settings
from django.utils import translation

from accounts.models import PricingTier

register = template.Library()


@register.filter
def rank_name(rank: PricingTier | None) -> str:
    """`{{ rank|rank_name }}`: the operator's name for the rank in the reader's language."""
    if rank is None:
        return ""
    return rank.name_in(translation.get_language() or settings.LANGUAGE_CODE)
