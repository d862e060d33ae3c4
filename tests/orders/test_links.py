"""orders/links.py: which links name the same target for the one-open-order-per-link rule."""

import pytest

from orders.links import link_key, normalized_link


@pytest.mark.parametrize(
    "variant",
    [
        "https://www.instagram.com/p/AbC123/",
        "http://instagram.com/p/AbC123",
        "instagram.com/p/AbC123",
        "www.Instagram.COM/p/AbC123/",
        "https://instagram.com/p/AbC123/?utm_source=ig_web_copy_link&igshid=MzRlODBiNWFlZA==",
        "https://instagram.com/p/AbC123?fbclid=IwAR0x&UTM_Medium=social",
        "https://instagram.com/p/AbC123/#comments",
        "  https://instagram.com/p/AbC123  ",
    ],
)
def test_scheme_www_trailing_slash_tracking_and_host_case_are_one_link(variant: str) -> None:
    assert normalized_link(variant) == "instagram.com/p/AbC123"
    assert link_key(variant) == link_key("https://instagram.com/p/AbC123")


def test_youtube_share_parameters_go_and_the_video_id_stays() -> None:
    shared = "https://www.youtube.com/watch?v=dQw4w9WgXcQ&feature=share&si=xyz"

    assert normalized_link(shared) == "youtube.com/watch?v=dQw4w9WgXcQ"
    assert link_key("https://youtu.be/dQw4w9WgXcQ?si=abc") == link_key("youtu.be/dQw4w9WgXcQ")


def test_paths_and_other_parameters_keep_their_case_and_tell_links_apart() -> None:
    assert link_key("https://instagram.com/p/AbC123") != link_key("https://instagram.com/p/abc123")
    assert link_key("https://youtube.com/watch?v=a") != link_key("https://youtube.com/watch?v=b")
    assert link_key("https://tiktok.com/@a") != link_key("https://facebook.com/@a")


def test_a_handle_is_only_trimmed() -> None:
    assert normalized_link(" @some_user ") == "@some_user"
    assert normalized_link("@some.user") == "@some.user"
    assert link_key("@some_user") != link_key("@other_user")


def test_the_key_is_short_enough_for_an_index_however_long_the_link() -> None:
    assert len(link_key("https://example.com/" + "x" * 5000)) == 64
