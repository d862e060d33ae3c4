"""One default markup: the model, the service and the command start a provider with it."""

from providers.management.commands.add_provider import Command
from providers.models import DEFAULT_MARKUP_PERCENT, Provider
from providers.services import provider_create
from sandbox import SandboxServer


def test_a_new_provider_starts_with_the_one_default_markup(
    db: None, sandbox: SandboxServer
) -> None:
    created = provider_create(name="Defaults", api_url=sandbox.url, api_key="sandbox-key")
    parser = Command().create_parser("manage.py", "add_provider")

    assert Provider().markup_percent == DEFAULT_MARKUP_PERCENT
    assert created.markup_percent == DEFAULT_MARKUP_PERCENT
    assert parser.get_default("markup_percent") == str(DEFAULT_MARKUP_PERCENT)
