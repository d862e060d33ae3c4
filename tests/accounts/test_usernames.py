"""Issue 17, item 8: one account per name, whatever its case or compatibility spelling."""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from accounts.models import User
from accounts.signup import user_sign_up
from core.errors import InvalidRequest

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-phrase-9"


def _sign_up(client: Client, username: str, email: str = "someone@example.com") -> str:
    response = client.post(
        "/signup/",
        {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code in (200, 302)
    return response.content.decode()


@pytest.mark.parametrize("spelling", ["ａlice", "ＡＬＩＣＥ", "𝐚lice", "alicᵉ", "Alice", " alice "])
def test_another_spelling_of_a_taken_name_is_a_form_error(
    client: Client, customer: User, spelling: str
) -> None:
    # "ａlice" answered 500 (the name was checked before NFKC made it "alice"), "ＡＬＩＣＥ"
    # created a second account beside alice.
    page = _sign_up(client, spelling)
    assert "This username is taken." in page
    assert User.objects.count() == 1


def test_a_new_name_is_stored_in_its_nfkc_spelling(client: Client) -> None:
    _sign_up(client, "ｂｏｂ")
    assert User.objects.get().username == "bob"


def test_the_database_refuses_a_second_account_differing_only_in_case(customer: User) -> None:
    # Two racing sign-ups both pass any check made before the insert: the index decides.
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="ALICE", email="other@example.com")


def test_the_sign_up_service_reports_a_lost_race_as_a_taken_name(customer: User) -> None:
    with pytest.raises(InvalidRequest, match="This username is taken."):
        user_sign_up(username="ＡＬＩＣＥ", email="x@example.com", password=PASSWORD)


@pytest.mark.parametrize("spelling", ["alice", "ALICE", "ａlice", "𝐚lice"])
def test_login_accepts_every_spelling_of_the_one_account(customer: User, spelling: str) -> None:
    assert Client().login(username=spelling, password="pass12345")


def test_migration_0008_stops_with_the_clashing_names(transactional_db: None) -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0007_ledger_partial_indexes")])
    try:
        old_user = executor.loader.project_state(
            ("accounts", "0007_ledger_partial_indexes")
        ).apps.get_model("accounts", "User")
        old_user.objects.create(username="carol", email="c1@example.com")
        old_user.objects.create(username="Carol", email="c2@example.com")
        executor = MigrationExecutor(connection)
        with pytest.raises(RuntimeError, match="'carol' \\(id \\d+\\), 'Carol' \\(id \\d+\\)"):
            executor.migrate([("accounts", "0008_username_lower_unique_signup_expiry")])
        old_user.objects.filter(username="Carol").update(username="carol2")
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert User.objects.filter(username="carol2").exists()
