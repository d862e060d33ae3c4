"""The transfer memo names a customer only as a token of its own: "nap" is Vietnamese for "top
up", so "nap500k NAP8" is customer 8, never 500. A text naming two customers, or none, waits in
the unmatched queue; SePay's own parsed `code` is preferred when it names one customer."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import BalanceTransaction, User
from payments.memo import user_ids_in
from payments.models import Deposit
from tests.factories import UserFactory
from tests.payments.senders import casso_body, post_casso, post_sepay, sepay_body

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("nap500k NAP8", {8}),
        ("NAP8", {8}),
        ("nap8", {8}),
        ("MBVCB.3278907687.NAP8.CT tu 0123 toi 0456", {8}),
        ("NAP8-chuyen tien", {8}),
        ("(NAP8)", {8}),
        ("_NAP8_", {8}),
        ("NAP8 nap8", {8}),
        ("xNAP8", set()),
        ("1NAP8", set()),
        ("NAP8x", set()),
        ("NAP8đ", set()),
        ("ănap8", set()),
        ("nap 500k", set()),
        ("NAP", set()),
        ("NAP8 NAP9", {8, 9}),
        ("NAP8 va nap9", {8, 9}),
    ],
)
def test_a_memo_token_is_bounded_by_non_alphanumerics(text: str, ids: set[int]) -> None:
    assert user_ids_in(text, prefix="NAP") == ids


def _deposit_lines(user: User) -> list[tuple[str, Decimal]]:
    return list(
        BalanceTransaction.objects.filter(user=user, deposit_id__isnull=False).values_list(
            "kind", "amount"
        )
    )


@pytest.fixture
def other(db: None) -> User:
    return UserFactory(username="carol")


@pytest.mark.usefixtures("bank")
def test_a_top_up_word_glued_to_a_number_credits_nobody_by_it(
    client: Client, customer: User, other: User
) -> None:
    # given: "nap<other's id>k" is "top up <n> thousand"; the memo is the customer's
    text = f"nap{other.pk}k NAP{customer.pk}"

    # when
    assert (
        post_sepay(client, sepay_body(transfer_id=31, amount=50000, content=text)).status_code
        == 200
    )

    # then
    deposit = Deposit.objects.get()
    assert deposit.status == Deposit.Status.CREDITED and deposit.user == customer
    assert _deposit_lines(other) == []


@pytest.mark.usefixtures("bank")
def test_a_glued_memo_credits_nobody(client: Client, customer: User) -> None:
    post_sepay(client, sepay_body(transfer_id=32, amount=50000, content=f"CT1NAP{customer.pk}"))
    deposit = Deposit.objects.get()
    assert deposit.status == Deposit.Status.UNMATCHED and deposit.user is None
    assert deposit.reason == "the memo names no customer"


@pytest.mark.usefixtures("bank")
def test_a_memo_naming_two_customers_waits_unmatched(
    client: Client, customer: User, other: User
) -> None:
    # when: Casso reports a text naming both (no parsed code to prefer)
    body = casso_body(
        transfer_id=33, amount=50000, description=f"NAP{customer.pk} NAP{other.pk} chuyen tien"
    )
    assert post_casso(client, body).status_code == 200

    # then: nobody is credited; an admin decides
    deposit = Deposit.objects.get()
    assert deposit.status == Deposit.Status.UNMATCHED and deposit.user is None
    assert deposit.reason == "the memo names more than one customer"
    assert _deposit_lines(customer) == [] and _deposit_lines(other) == []


@pytest.mark.usefixtures("bank")
def test_sepays_parsed_code_is_preferred_to_the_text(
    client: Client, customer: User, other: User
) -> None:
    # given: SePay found the customer's code; the text also names someone else
    body = sepay_body(
        transfer_id=34,
        amount=50000,
        content=f"NAP{other.pk} NAP{customer.pk} chuyen tien",
        code=f"NAP{customer.pk}",
    )

    # when
    assert post_sepay(client, body).status_code == 200

    # then
    deposit = Deposit.objects.get()
    assert deposit.status == Deposit.Status.CREDITED and deposit.user == customer


@pytest.mark.usefixtures("bank")
def test_a_sepay_code_that_is_not_a_memo_leaves_the_text_to_decide(
    client: Client, customer: User
) -> None:
    body = sepay_body(
        transfer_id=35, amount=50000, content=f"NAP{customer.pk} chuyen tien", code="DH1709"
    )
    assert post_sepay(client, body).status_code == 200
    assert Deposit.objects.get().user == customer
