"""The operator's notices (panel.models.Notice): which are shown, and their text as HTML.

The text comes from the database, so it is never trusted as HTML: Markdown is rendered with raw
HTML turned off (a <script> shows as typed) and without images (the content security policy
would block them, and a notice is no place for tracking pixels); plain text is escaped and keeps
its line breaks. Links keep markdown-it's check, which refuses javascript:, vbscript: and data:.
"""

import hashlib
from dataclasses import dataclass

from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from core.tenancy import current_panel_id
from panel.models import Notice

# The cookie that holds the version of the announcement this browser dismissed.
DISMISSED_COOKIE = "panel_announcement_dismissed"
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True}).disable("image")


def notices_shown() -> dict[str, Notice]:
    """The notices to show, by kind (one query: every page asks for the banner and the terms).
    None on a child panel's host: the notices are the parent's words to its own customers."""
    if current_panel_id() is not None:
        return {}
    return {notice.kind: notice for notice in Notice.objects.filter(is_active=True)}


def notice_shown(kind: str) -> Notice | None:
    if current_panel_id() is not None:
        return None
    return Notice.objects.filter(kind=kind, is_active=True).first()


def notice_html(notice: Notice, *, language: str) -> SafeString:
    text = notice.body_in(language)
    if notice.text_format == Notice.TextFormat.PLAIN:
        return SafeString(linebreaks(text, autoescape=True))
    # markdown-it escapes every character of the source it does not turn into markup itself.
    return mark_safe(_MARKDOWN.render(text))  # noqa: S308


def notice_version(notice: Notice) -> str:
    """Changes when the text does: a dismissed announcement shows again once it is rewritten."""
    text = "\x00".join((notice.text_format, notice.body_vi, notice.body_en))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SiteNotices:
    """What every page's frame shows of the notices."""

    announcement_html: str
    announcement_version: str
    has_terms: bool


def site_notices(*, language: str, dismissed: str) -> SiteNotices:
    """The banner (unless this browser dismissed its version) and whether the terms exist."""
    shown = notices_shown()
    announcement = shown.get(Notice.Kind.ANNOUNCEMENT)
    html, version = "", ""
    if announcement is not None:
        version = notice_version(announcement)
        if version != dismissed:
            html = notice_html(announcement, language=language)
    return SiteNotices(html, version, Notice.Kind.TERMS in shown)
