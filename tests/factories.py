"""factory_boy factories. Money goes through the ledger services, never straight into columns."""

from decimal import Decimal

import factory

from accounts.models import User
from accounts.services import balance_credit
from providers.models import Category, Product, Provider, Service, ServiceType


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass12345")

    @factory.post_generation
    def funds(user: User, create: bool, extracted: Decimal | None, **kwargs: object) -> None:
        if create and extracted:
            balance_credit(user_id=user.pk, amount=Decimal(extracted), memo="test deposit")
            user.refresh_from_db(fields=["balance"])


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"provider{n}")
    api_url = "http://127.0.0.1:9/api/v2"
    currency = "USD"
    markup_percent = Decimal(25)

    @factory.post_generation
    def key(provider: Provider, create: bool, extracted: str | None, **kwargs: object) -> None:
        provider.api_key = extracted or "sandbox-key"
        if create:
            provider.save(update_fields=["api_key_encrypted"])


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Category {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    provider = factory.SubFactory(ProviderFactory)
    upstream_id = factory.Sequence(lambda n: str(1000 + n))
    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Instagram followers {n}")
    type = ServiceType.DEFAULT
    upstream_rate = Decimal("2")
    rate = Decimal("2.5")
    min = 10
    max = 10000
    has_refill = True
    has_cancel = True


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    provider = factory.SubFactory(ProviderFactory)
    upstream_id = factory.Sequence(lambda n: str(500 + n))
    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Netflix premium {n}")
    upstream_rate = Decimal("2")
    rate = Decimal("2.5")
    min = 1
    max = 10
    require = "Input your account"
    inventory = 40
