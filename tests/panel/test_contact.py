"""The support contacts (PANEL_SUPPORT_*): checked at start, shown in the footer, on the support
page and in the phone's floating button, and nowhere when none is set."""

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from panel.contact import Contact, contacts_parse

ALL = {
    "PANEL_SUPPORT_ZALO": "0909 123 456",
    "PANEL_SUPPORT_PHONE": "1900 6868",
    "PANEL_SUPPORT_TELEGRAM": "@smm_help",
    "PANEL_SUPPORT_FACEBOOK": "https://m.me/smm.help",
}
NONE = dict.fromkeys(ALL, "")


def test_contacts_parse_turns_each_setting_into_a_link() -> None:
    assert contacts_parse(ALL) == (
        Contact("zalo", "0909 123 456", "https://zalo.me/0909123456"),
        Contact("phone", "1900 6868", "tel:19006868"),
        Contact("telegram", "@smm_help", "https://t.me/smm_help"),
        Contact("facebook", "m.me/smm.help", "https://m.me/smm.help"),
    )


@pytest.mark.parametrize(
    ("name", "value", "href"),
    [
        ("PANEL_SUPPORT_ZALO", "+84 909 123 456", "https://zalo.me/0909123456"),
        ("PANEL_SUPPORT_ZALO", "https://zalo.me/0909123456", "https://zalo.me/0909123456"),
        ("PANEL_SUPPORT_ZALO", "zalo.me/smmshop", "https://zalo.me/smmshop"),
        ("PANEL_SUPPORT_PHONE", "0909.123.456", "tel:0909123456"),
        ("PANEL_SUPPORT_PHONE", "+84 28 3822 1234", "tel:+842838221234"),
        ("PANEL_SUPPORT_TELEGRAM", "smm_help", "https://t.me/smm_help"),
        ("PANEL_SUPPORT_TELEGRAM", "https://t.me/smm_help/", "https://t.me/smm_help"),
        (
            "PANEL_SUPPORT_FACEBOOK",
            "https://www.facebook.com/smm.help",
            "https://www.facebook.com/smm.help",
        ),
        ("PANEL_SUPPORT_FACEBOOK", "https://fb.com/smm.help", "https://fb.com/smm.help"),
    ],
)
def test_contacts_parse_accepts_the_usual_spellings(name: str, value: str, href: str) -> None:
    (contact,) = contacts_parse({name: value})
    assert contact.href == href


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PANEL_SUPPORT_ZALO", "0212345678"),  # a landline has no Zalo
        ("PANEL_SUPPORT_ZALO", "https://zalo.example.com/0909123456"),
        ("PANEL_SUPPORT_ZALO", "http://zalo.me/0909123456"),
        ("PANEL_SUPPORT_PHONE", "call us"),
        ("PANEL_SUPPORT_TELEGRAM", "@ab"),  # Telegram names have 5 characters at least
        ("PANEL_SUPPORT_TELEGRAM", "https://evil.example/t.me/x"),
        ("PANEL_SUPPORT_TELEGRAM", "@name with space"),
        ("PANEL_SUPPORT_FACEBOOK", "http://facebook.com/smm.help"),
        ("PANEL_SUPPORT_FACEBOOK", "https://facebook.com.evil.example/smm"),
        ("PANEL_SUPPORT_FACEBOOK", "javascript:alert(1)"),
        ("PANEL_SUPPORT_FACEBOOK", "https://facebook.com/"),
    ],
)
def test_contacts_parse_refuses_a_value_its_channel_cannot_open(name: str, value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=name):
        contacts_parse({name: value})


def test_a_bad_contact_setting_stops_the_panel_at_start() -> None:
    with (
        override_settings(PANEL_SUPPORT_TELEGRAM="not a name!"),
        pytest.raises(ImproperlyConfigured, match="PANEL_SUPPORT_TELEGRAM"),
    ):
        apps.get_app_config("panel").ready()


@pytest.mark.django_db
def test_contacts_show_in_the_footer_and_the_phone_button(client: Client) -> None:
    with override_settings(**ALL):
        page = client.get(reverse("login")).content.decode()
    footer = page[page.index('<footer class="site-footer">') :]
    for href in ("https://zalo.me/0909123456", "tel:19006868", "https://t.me/smm_help"):
        assert footer.count(f'href="{href}"') == 2  # the footer's list and the floating button's
    assert '<details class="contact-fab" data-popover>' in page
    assert 'href="https://m.me/smm.help" target="_blank" rel="noopener"' in page
    assert 'href="tel:19006868" target' not in page  # a call stays in the page


def test_contacts_show_on_the_support_page(client: Client, customer: User) -> None:
    client.force_login(customer)
    with override_settings(**ALL):
        page = client.get(reverse("ticket_list")).content.decode()
    main = page[page.index("<main>") : page.index("</main>")]
    assert 'class="card support-contacts"' in main
    assert 'href="https://zalo.me/0909123456"' in main


def test_no_contact_set_shows_no_footer_list_and_no_button(client: Client, customer: User) -> None:
    client.force_login(customer)
    with override_settings(**NONE):
        pages = [
            client.get(reverse(name)).content.decode() for name in ("dashboard", "ticket_list")
        ]
    for page in pages:
        assert "contact-fab" not in page
        assert "contact-list" not in page
        assert "support-contacts" not in page


def test_contact_labels_speak_vietnamese(client: Client, customer: User) -> None:
    client.force_login(customer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    with override_settings(**ALL):
        page = client.get(reverse("dashboard")).content.decode()
    assert "Gọi hotline" in page
    assert "Call the hotline" not in page
