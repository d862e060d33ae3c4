from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from operatorapi.services import staff_api_key_create
from tests.factories import UserFactory
from tests.orders.conftest import place, sent, service_of  # noqa: F401  (fixtures)


def staff_user(*permissions: str, superuser: bool = False, username: str = "") -> User:
    user = UserFactory(
        is_staff=True, is_superuser=superuser, **({"username": username} if username else {})
    )
    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return User.objects.get(pk=user.pk)  # a fresh permission cache


def key_for(user: User, **kwargs: Any) -> str:
    return staff_api_key_create(owner=user, created_by=user, name="test", **kwargs)[1]


class Api:
    """A client for /adminapi/v2 with one key."""

    def __init__(self, key: str, address: str = "127.0.0.1") -> None:
        self.client = Client(REMOTE_ADDR=address)
        self.key = key
        self.count = 0

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/adminapi/v2/{path}", params, HTTP_X_API_KEY=self.key)

    def post(self, path: str, body: dict | None = None, idempotency_key: str | None = None) -> Any:
        self.count += 1
        headers = {"HTTP_X_API_KEY": self.key}
        if idempotency_key != "":
            headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key or f"test-{self.count}-{path}"
        return self.client.post(
            f"/adminapi/v2/{path}", body or {}, content_type="application/json", **headers
        )


@pytest.fixture
def root(db: None) -> User:
    return staff_user(superuser=True, username="root")


@pytest.fixture
def api(root: User) -> Api:
    return Api(key_for(root))


@pytest.fixture
def api_as() -> Callable[..., Api]:
    def make(*permissions: str, **kwargs: Any) -> Api:
        return Api(key_for(staff_user(*permissions), **kwargs))

    return make
