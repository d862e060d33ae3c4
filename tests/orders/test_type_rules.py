from datetime import timedelta

import pytest
from django.utils import timezone

from orders.errors import IncorrectLink, InvalidOrderField, QuantityOutOfRange
from orders.type_rules import RULES, parse_order_fields, upstream_fields
from providers.models import Service
from providers.models import ServiceType as T


def _service(service_type: str = T.DEFAULT, **kwargs: object) -> Service:
    return Service(
        type=service_type, min=kwargs.pop("min", 100), max=kwargs.pop("max", 10000), **kwargs
    )


def test_every_protocol_type_has_a_rule() -> None:
    assert set(RULES) == set(T.values)


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("99", "Quantity less than minimal 100"),
        ("-5", "Quantity less than minimal 100"),
        ("10001", "Quantity more than maximal 10000"),
    ],
)
def test_quantity_limits_use_the_protocol_messages(quantity: str, message: str) -> None:
    with pytest.raises(QuantityOutOfRange) as error:
        parse_order_fields(_service(), {"link": "https://x.com/a", "quantity": quantity})
    assert error.value.message == message


def test_quantity_step_is_enforced() -> None:
    with pytest.raises(QuantityOutOfRange, match="Quantity must be a multiple of 100"):
        parse_order_fields(
            _service(quantity_step=100), {"link": "https://x.com/a", "quantity": "150"}
        )


@pytest.mark.parametrize(
    "link",
    [
        "",
        "not a link",
        "ftp://x.com/a",
        "https://",
        "javascript:alert(1)",
        "https://x.com/" + "a" * 1000,
    ],
)
def test_bad_links_are_incorrect_link(link: str) -> None:
    with pytest.raises(IncorrectLink) as error:
        parse_order_fields(_service(), {"link": link, "quantity": "100"})
    assert error.value.message == "Incorrect link"


@pytest.mark.parametrize(
    "link",
    [
        "https://www.instagram.com/p/abc/",
        "http://t.me/chan",
        "@handle",
        "user.name_1",
        "https://www.tiktok.com/@u/video/1?x=1",
    ],
)
def test_urls_and_handles_are_accepted(link: str) -> None:
    assert parse_order_fields(_service(), {"link": link, "quantity": "100"}).link == link


def test_dripfeed_charges_and_checks_max_on_quantity_times_runs() -> None:
    service = _service(has_dripfeed=True, max=1000)
    request = parse_order_fields(
        service, {"link": "@a", "quantity": "200", "runs": "5", "interval": "30"}
    )
    assert (request.quantity, request.total_quantity, request.runs, request.interval) == (
        200,
        1000,
        5,
        30,
    )

    with pytest.raises(QuantityOutOfRange, match="Quantity more than maximal 1000"):
        parse_order_fields(
            service, {"link": "@a", "quantity": "200", "runs": "6", "interval": "30"}
        )


@pytest.mark.parametrize("absent", ["", "undefined", "null", "0"])
def test_absent_runs_mean_no_dripfeed(absent: str) -> None:
    request = parse_order_fields(
        _service(), {"link": "@a", "quantity": "200", "runs": absent, "interval": absent}
    )
    assert request.runs is None and request.total_quantity == 200


def test_dripfeed_on_a_service_without_it_is_refused() -> None:
    with pytest.raises(InvalidOrderField) as error:
        parse_order_fields(
            _service(has_dripfeed=False),
            {"link": "@a", "quantity": "200", "runs": "3", "interval": "5"},
        )
    assert error.value.field == "runs" and error.value.message == "Incorrect request"


def test_custom_comments_count_lines_and_ignore_a_sent_quantity() -> None:
    request = parse_order_fields(
        _service(T.CUSTOM_COMMENTS, min=2),
        {"link": "@a", "quantity": "999", "comments": "nice\n\n  wow  \r\ngreat"},
    )
    assert (request.quantity, request.details["comments"]) == (3, "nice\nwow\ngreat")


def test_packages_are_one_flat_unit() -> None:
    request = parse_order_fields(_service(T.PACKAGE, min=1, max=1), {"link": "@a"})
    assert request.is_package and request.total_quantity == 1


@pytest.mark.parametrize(
    ("service_type", "fields", "missing"),
    [
        (T.MENTIONS, {"quantity": "100"}, "usernames"),
        (T.MENTIONS_WITH_HASHTAGS, {"quantity": "100", "usernames": "a"}, "hashtags"),
        (T.MENTIONS_HASHTAG, {"quantity": "100"}, "hashtag"),
        (T.MENTIONS_USER_FOLLOWERS, {"quantity": "100"}, "username"),
        (T.MENTIONS_MEDIA_LIKERS, {"quantity": "100"}, "media"),
        (T.COMMENT_LIKES, {"quantity": "100"}, "username"),
        (T.POLL, {"quantity": "100"}, "answer_number"),
        (T.INVITES_FROM_GROUPS, {"quantity": "100"}, "groups"),
        (T.SEO, {"quantity": "100"}, "keywords"),
        (T.CUSTOM_COMMENTS, {}, "comments"),
    ],
)
def test_each_type_requires_its_own_field(service_type: str, fields: dict, missing: str) -> None:
    with pytest.raises(InvalidOrderField) as error:
        parse_order_fields(_service(service_type), {"link": "@a", **fields})
    assert error.value.field == missing and error.value.message == "Incorrect request"


def test_mentions_custom_list_quantity_is_the_number_of_usernames() -> None:
    request = parse_order_fields(
        _service(T.MENTIONS_CUSTOM_LIST, min=1), {"link": "@a", "usernames": "a\nb\nc"}
    )
    assert request.total_quantity == 3
    assert upstream_fields(
        service_type=T.MENTIONS_CUSTOM_LIST,
        link="@a",
        quantity=3,
        runs=None,
        interval=None,
        details=request.details,
    ) == {
        "usernames": "a\nb\nc",
        "link": "@a",
    }


def test_subscriptions_take_username_min_max_posts_and_charge_max_times_posts() -> None:
    expiry = (timezone.localdate() + timedelta(days=10)).strftime("%d/%m/%Y")
    request = parse_order_fields(
        _service(T.SUBSCRIPTIONS),
        {
            "username": "someone",
            "min": "100",
            "max": "200",
            "posts": "5",
            "delay": "30",
            "expiry": expiry,
            "link": "ignored",
        },
    )
    assert request.link == "" and request.total_quantity == 1000
    assert request.details == {
        "username": "someone",
        "min": "100",
        "max": "200",
        "posts": "5",
        "delay": "30",
        "expiry": expiry,
    }


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"min": "100", "max": "200", "posts": "5"}, "username"),
        ({"username": "u", "min": "300", "max": "200", "posts": "5"}, "min"),
        ({"username": "u", "min": "100", "max": "200", "posts": "5", "delay": "7"}, "delay"),
        (
            {"username": "u", "min": "100", "max": "200", "posts": "5", "expiry": "2020-01-01"},
            "expiry",
        ),
        (
            {"username": "u", "min": "100", "max": "200", "posts": "5", "expiry": "01/01/2020"},
            "expiry",
        ),
    ],
)
def test_subscriptions_reject_bad_fields(fields: dict, field: str) -> None:
    with pytest.raises(InvalidOrderField) as error:
        parse_order_fields(_service(T.SUBSCRIPTIONS), fields)
    assert error.value.field == field


def test_upstream_fields_are_strict_per_type() -> None:
    assert upstream_fields(
        service_type=T.DEFAULT, link="@a", quantity=100, runs=3, interval=10, details={}
    ) == {
        "link": "@a",
        "quantity": "100",
        "runs": "3",
        "interval": "10",
    }
    assert upstream_fields(
        service_type=T.PACKAGE, link="@a", quantity=1, runs=None, interval=None, details={}
    ) == {"link": "@a"}


def test_package_rules_agree_with_the_catalogs_package_types() -> None:
    from providers.models import PACKAGE_TYPES

    assert {name for name, rule in RULES.items() if rule.is_package} == PACKAGE_TYPES


def test_subscription_limit_errors_name_the_field_that_is_off() -> None:
    with pytest.raises(QuantityOutOfRange) as low:
        parse_order_fields(
            _service(T.SUBSCRIPTIONS), {"username": "u", "min": "5", "max": "200", "posts": "1"}
        )
    with pytest.raises(QuantityOutOfRange) as high:
        parse_order_fields(
            _service(T.SUBSCRIPTIONS), {"username": "u", "min": "100", "max": "20000", "posts": "1"}
        )
    assert (low.value.field, low.value.message) == ("min", "Quantity less than minimal 100")
    assert (high.value.field, high.value.message) == ("max", "Quantity more than maximal 10000")


def test_subscription_without_posts_buys_the_default_number(settings: object) -> None:
    settings.PANEL_SUBSCRIPTION_DEFAULT_POSTS = 7  # type: ignore[attr-defined]
    request = parse_order_fields(
        _service(T.SUBSCRIPTIONS), {"username": "u", "min": "100", "max": "200"}
    )
    assert request.details["posts"] == "7" and request.total_quantity == 1400
