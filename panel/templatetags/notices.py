"""{% notice_block "deposit_guide" %}: an operator's notice where a page wants it, in the reader's
language; nothing when it is hidden. Pages of lower apps (add funds) load it by name only."""

from django import template
from django.utils.translation import get_language

from panel.notices import notice_html, notice_shown

register = template.Library()


@register.inclusion_tag("notices/_notice_block.html")
def notice_block(kind: str) -> dict[str, object]:
    notice = notice_shown(kind)
    html = notice_html(notice, language=get_language()) if notice is not None else ""
    return {"kind": kind, "html": html}
