"""The operator's words for the catalog (category names per language, platforms) outlive syncs;
the reseller API keeps the provider's names."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from providers.models import Category, Provider, Service
from providers.platforms import Platform, platform_detect
from providers.services import CategoryWords, catalog_sync, category_words_update
from tests.factories import CategoryFactory, ServiceFactory, UserFactory


@pytest.mark.parametrize(
    ("name", "platform"),
    [
        ("Facebook Page Likes", "facebook"),
        ("FB Fanpage", "facebook"),
        ("TikTok Views", "tiktok"),
        ("Tik Tok Followers [Real]", "tiktok"),
        ("Instagram Threads Likes", "threads"),
        ("Instagram Followers", "instagram"),
        ("YouTube Views", "youtube"),
        ("Shopee Followers", "shopee"),
        ("Telegram Post Views", "telegram"),
        ("Twitter/X Polls", "twitter"),
        ("X Followers", "twitter"),
        ("Google Maps Reviews", "google"),
        ("Spotify Plays", "spotify"),
        ("Website traffic Visitors from USA", "website"),
        ("Netflix accounts", "other"),
        ("Max retention views", "other"),  # an "x" inside a word is no Twitter/X
    ],
)
def test_platform_detect_reads_the_category_name(name: str, platform: str) -> None:
    assert platform_detect(name) == platform


def test_sync_detects_each_category_platform(catalog: Provider) -> None:
    assert Category.objects.get(name="Twitter/X Followers").platform == Platform.TWITTER
    assert Category.objects.get(name="Threads Likes").platform == Platform.THREADS
    assert Category.objects.get(name="Facebook Page Likes").platform == Platform.FACEBOOK


def test_operator_names_and_platform_survive_a_sync(catalog: Provider) -> None:
    # given: the operator names a category in both languages and lists it under another platform
    category = Category.objects.get(name="Instagram Followers")
    services = set(Service.objects.filter(category=category).values_list("pk", flat=True))
    changed = category_words_update(
        rows=[
            CategoryWords(
                category_id=category.pk,
                name_vi="Tăng follow Instagram",
                name_en="Instagram followers (real)",
                platform_override=Platform.THREADS,
            )
        ]
    )

    # when
    catalog_sync(provider=catalog)

    # then: the names and platform stay, the services stay in the category, no twin is created
    category.refresh_from_db()
    assert changed == 1
    assert (category.name_vi, category.name_en) == (
        "Tăng follow Instagram",
        "Instagram followers (real)",
    )
    assert category.platform == Platform.INSTAGRAM and category.shown_platform == Platform.THREADS
    assert set(Service.objects.filter(category=category).values_list("pk", flat=True)) == services
    assert Category.objects.filter(name__icontains="Instagram Followers").count() == 1
    assert category.name_in("vi") == "Tăng follow Instagram"
    assert category.name_in("en") == "Instagram followers (real)"


def test_category_words_update_writes_only_what_changed(db: None) -> None:
    category = CategoryFactory(name="TikTok Likes")
    row = CategoryWords(
        category_id=category.pk, name_vi=" Like TikTok ", name_en="", platform_override=""
    )

    assert category_words_update(rows=[row]) == 1
    assert category_words_update(rows=[row]) == 0  # the same words again: nothing to write
    category.refresh_from_db()
    assert category.name_vi == "Like TikTok" and category.name_in("en") == "TikTok Likes"
    # an unknown platform (a forged form) is skipped
    forged = CategoryWords(
        category_id=category.pk, name_vi="x", name_en="", platform_override="myspace"
    )
    assert category_words_update(rows=[forged]) == 0


def test_customer_pages_show_the_category_in_the_readers_language(
    client: Client, customer: User
) -> None:
    category = CategoryFactory(
        name="Instagram Followers", name_vi="Follow Instagram", platform="instagram"
    )
    ServiceFactory(category=category, name="IG followers HQ")
    client.force_login(customer)

    with translation.override("vi"):
        customer.language = "vi"
        customer.save(update_fields=["language"])
        vi_page = client.get(reverse("services")).content.decode()
    customer.language = "en"
    customer.save(update_fields=["language"])
    en_page = client.get(reverse("services")).content.decode()

    assert "Follow Instagram" in vi_page
    assert "Instagram Followers" in en_page and "Follow Instagram" not in en_page


def test_api_services_keep_their_shape_and_the_providers_names(
    client: Client, reseller: User, reseller_key: str
) -> None:
    category = CategoryFactory(name="YouTube Views", name_vi="Tăng view YouTube", name_en="Views")
    ServiceFactory(
        category=category, name="YT views", description="Fast", description_vi="Nhanh", rate="2.5"
    )

    answer = json.loads(client.post("/api/v2", {"key": reseller_key, "action": "services"}).content)

    assert answer == [
        {
            "service": answer[0]["service"],
            "name": "YT views",
            "type": "Default",
            "category": "YouTube Views",
            "rate": "2.5",
            "min": "10",
            "max": "10000",
            "refill": True,
            "cancel": True,
            "dripfeed": False,
            "desc": "Fast",
        }
    ]


def test_the_words_page_saves_every_row_at_once(client: Client, db: None) -> None:
    first = CategoryFactory(name="Facebook Followers")
    second = CategoryFactory(name="Telegram Members")
    editor = UserFactory(username="editor", is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="change_category"))
    client.force_login(editor)
    url = reverse("admin:providers_category_words")

    page = client.get(url)
    response = client.post(
        url,
        {
            "ids": [first.pk, second.pk],
            f"name_vi_{first.pk}": "Follow Facebook",
            f"name_en_{first.pk}": "",
            f"platform_{first.pk}": "",
            f"name_vi_{second.pk}": "Thành viên nhóm Telegram",
            f"name_en_{second.pk}": "Telegram group members",
            f"platform_{second.pk}": "telegram",
        },
    )

    assert page.status_code == 200 and "Facebook Followers" in page.content.decode()
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.name_vi == "Follow Facebook"
    assert (second.name_en, second.platform_override) == ("Telegram group members", "telegram")


def test_the_words_page_needs_the_change_permission(client: Client, db: None) -> None:
    category = CategoryFactory(name="Spotify Plays")
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_category"))
    client.force_login(viewer)
    url = reverse("admin:providers_category_words")

    posted = client.post(url, {"ids": [category.pk], f"name_vi_{category.pk}": "Nghe Spotify"})

    assert client.get(url).status_code == 403 and posted.status_code == 403
    category.refresh_from_db()
    assert category.name_vi == ""
