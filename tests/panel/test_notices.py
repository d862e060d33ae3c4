"""The operator's notices (panel.models.Notice): the announcement banner and its dismissal, the
deposit guide on the add-funds page, the terms page and its links; both languages, never raw
HTML from the database."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import User
from panel.models import Notice
from panel.notices import DISMISSED_COOKIE, notice_html
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Kind = Notice.Kind


def _notice(kind: str, vi: str, en: str, text_format: str = "markdown") -> Notice:
    notice, _created = Notice.objects.update_or_create(
        kind=kind,
        defaults={"body_vi": vi, "body_en": en, "text_format": text_format, "is_active": True},
    )
    return notice


def _in(client: Client, language: str) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.fixture(autouse=True)
def _notices() -> None:
    """The rows the migration creates (a transactional test elsewhere may have flushed them)."""
    for kind in Kind.values:
        Notice.objects.get_or_create(kind=kind)


def test_markdown_never_runs_html_from_the_database() -> None:
    notice = _notice(
        Kind.TERMS,
        "x",
        '**Bold** <script>alert(1)</script> <img src=x onerror="alert(2)">\n'
        "[click](javascript:alert(3)) ![pixel](https://tracker.example/p.png)",
    )
    html = notice_html(notice, language="en")
    assert "<strong>Bold</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html
    assert 'href="javascript:' not in html


def test_plain_text_is_escaped_and_keeps_its_line_breaks() -> None:
    notice = _notice(Kind.TERMS, "x", "Line one\nLine <b>two</b>\n\nNext", text_format="plain")
    assert notice_html(notice, language="en") == (
        "<p>Line one<br>Line &lt;b&gt;two&lt;/b&gt;</p>\n\n<p>Next</p>"
    )


def test_a_shown_notice_needs_both_languages() -> None:
    notice = Notice(kind=Kind.ANNOUNCEMENT, body_vi="Xin chào", body_en="", is_active=True)
    with pytest.raises(ValidationError) as error:
        notice.clean()
    assert set(error.value.message_dict) == {"body_en"}
    notice.is_active = False
    notice.clean()  # a hidden draft may be half written


@pytest.mark.parametrize(
    ("language", "shown", "not_shown"),
    [
        ("vi", "<strong>Bảo trì</strong> lúc 23:00", "Maintenance"),
        ("en", "<strong>Maintenance</strong> at 23:00", "Bảo trì"),
    ],
)
def test_the_announcement_shows_on_every_page_in_the_readers_language(
    client: Client, customer: User, language: str, shown: str, not_shown: str
) -> None:
    _notice(Kind.ANNOUNCEMENT, "**Bảo trì** lúc 23:00", "**Maintenance** at 23:00")
    client.force_login(customer)
    for name in ("dashboard", "order_list", "account"):
        page = _in(client, language).get(reverse(name)).content.decode()
        banner = page[page.index('class="announcement"') : page.index('<div class="layout">')]
        assert shown in banner
        assert not_shown not in banner


def test_a_dismissed_announcement_stays_hidden_until_it_is_rewritten(client: Client) -> None:
    notice = _notice(Kind.ANNOUNCEMENT, "Khuyến mãi 10%", "10% bonus")
    page = _in(client, "en").get(reverse("login")).content.decode()
    assert "10% bonus" in page
    version = page.split('name="version" value="', 1)[1].split('"', 1)[0]

    # when: dismissed (the browser without script posts and comes back)
    response = client.post(
        reverse("announcement_dismiss"), {"version": version, "next": reverse("login")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.cookies[DISMISSED_COOKIE].value == version
    assert "10% bonus" not in client.get(reverse("login")).content.decode()

    # then: a new text is a new version, shown again
    notice.body_en = "20% bonus"
    notice.save()
    assert "20% bonus" in client.get(reverse("login")).content.decode()


def test_dismissing_from_the_script_answers_no_content_and_keeps_next_on_this_site(
    client: Client,
) -> None:
    scripted = client.post(reverse("announcement_dismiss"), {"version": "abc", "script": "1"})
    assert scripted.status_code == 204
    assert scripted.cookies[DISMISSED_COOKIE]["httponly"]
    away = client.post(
        reverse("announcement_dismiss"), {"version": "abc", "next": "https://evil.example/"}
    )
    assert away["Location"] == reverse("home")
    assert client.get(reverse("announcement_dismiss")).status_code == 405


@pytest.mark.parametrize(
    ("language", "text"), [("vi", "Chuyển khoản đúng nội dung"), ("en", "Use the exact memo")]
)
def test_the_deposit_guide_leads_the_add_funds_page(
    client: Client, customer: User, language: str, text: str
) -> None:
    _notice(Kind.DEPOSIT_GUIDE, "Chuyển khoản đúng nội dung", "Use the exact memo")
    client.force_login(customer)
    page = _in(client, language).get(reverse("add_funds")).content.decode()
    main = page[page.index("<main>") :]
    assert f"<p>{text}</p>" in main
    # Above every payment method (this panel has none set up: the page says so, after it).
    assert main.index("notice-deposit_guide") < main.index('class="card empty"')


def test_a_hidden_deposit_guide_shows_nothing(client: Client, customer: User) -> None:
    Notice.objects.filter(kind=Kind.DEPOSIT_GUIDE).update(body_en="Secret draft")
    client.force_login(customer)
    page = client.get(reverse("add_funds")).content.decode()
    assert "notice-deposit_guide" not in page and "Secret draft" not in page


def test_terms_page_and_its_links_exist_only_once_the_terms_are_shown(client: Client) -> None:
    assert client.get(reverse("terms")).status_code == 404
    assert 'href="/terms/"' not in client.get(reverse("signup")).content.decode()

    _notice(
        Kind.TERMS,
        "# Điều khoản\nKhông hoàn tiền đơn sai link.",
        "# Terms\nNo refunds for wrong links.",
    )
    en = _in(client, "en").get(reverse("terms")).content.decode()
    assert "<h1>Terms</h1>" in en and "No refunds for wrong links." in en
    vi = _in(client, "vi").get(reverse("terms")).content.decode()
    assert "Không hoàn tiền đơn sai link." in vi and "No refunds" not in vi
    signup = client.get(reverse("signup")).content.decode()
    footer = signup[signup.index('<footer class="site-footer">') :]
    main = signup[signup.index("<main>") : signup.index("</main>")]
    assert 'href="/terms/"' in footer and 'href="/terms/"' in main


def test_notices_are_edited_not_added_and_need_the_change_permission(client: Client) -> None:
    staff = UserFactory(username="editor", is_staff=True)
    client.force_login(staff)
    notice = Notice.objects.get(kind=Kind.TERMS)
    change = reverse("admin:panel_notice_change", args=[notice.pk])
    assert client.get(change).status_code == 403
    staff.user_permissions.add(
        Permission.objects.get(codename="change_notice"),
        Permission.objects.get(codename="view_notice"),
    )
    assert client.get(change).status_code == 200
    assert client.get(reverse("admin:panel_notice_add")).status_code == 403  # none is missing
    assert client.get(reverse("admin:panel_notice_delete", args=[notice.pk])).status_code == 403
    response = client.post(
        change,
        {"is_active": "on", "text_format": "markdown", "body_vi": "Điều khoản", "body_en": "Terms"},
    )
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.is_active and notice.body_en == "Terms"
