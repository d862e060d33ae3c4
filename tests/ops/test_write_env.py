"""scripts/write_env.py, which `make run` calls first: a new .env names the embedded PostgreSQL,
an .env of the SQLite days moves to it, and an .env naming a server of its own keeps it."""

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _write_env() -> ModuleType:
    spec = importlib.util.spec_from_file_location("write_env", ROOT / "scripts/write_env.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _values(env_file: Path) -> dict[str, str]:
    return _write_env().read_values(env_file)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env.example")
    return tmp_path


def test_a_new_env_names_the_embedded_postgres_on_its_port(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PANEL_EMBEDDED_PG_PORT", "5499")

    assert _write_env().main(checkout) == 0

    values = _values(checkout / ".env")
    assert values["DATABASE_URL"] == "postgres://postgres@127.0.0.1:5499/smm_panel"
    assert values["PANEL_EMBEDDED_PG_DATA"] == str(checkout / "var/postgres")
    assert "sqlite" not in (checkout / ".env").read_text()


def test_an_sqlite_env_moves_to_the_embedded_postgres_and_keeps_its_secrets(
    checkout: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PANEL_EMBEDDED_PG_PORT", raising=False)
    (checkout / ".env").write_text(
        "SECRET_KEY=kept\nDATABASE_URL=sqlite:////old/panel.sqlite3\nPANEL_LANGUAGE=en\n"
    )

    _write_env().main(checkout)

    values = _values(checkout / ".env")
    assert values["DATABASE_URL"] == "postgres://postgres@127.0.0.1:5433/smm_panel"
    assert values["PANEL_EMBEDDED_PG_DATA"] == str(checkout / "var/postgres")
    assert values["SECRET_KEY"] == "kept" and values["PANEL_LANGUAGE"] == "en"
    assert "no longer supports" in capsys.readouterr().out


def test_an_env_naming_a_server_of_its_own_keeps_it_without_an_embedded_one(
    checkout: Path,
) -> None:
    server = "postgres://panel:secret@db.internal:5432/panel"
    (checkout / ".env").write_text(f"SECRET_KEY=kept\nDATABASE_URL={server}\n")

    _write_env().main(checkout)

    values = _values(checkout / ".env")
    assert values["DATABASE_URL"] == server
    assert "PANEL_EMBEDDED_PG_DATA" not in values


def test_a_new_env_sells_in_dong_unless_told_otherwise(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PANEL_CURRENCY", raising=False)
    _write_env().main(checkout)
    assert _values(checkout / ".env")["PANEL_CURRENCY"] == "VND"

    (checkout / ".env").unlink()
    monkeypatch.setenv("PANEL_CURRENCY", "USD")
    _write_env().main(checkout)
    assert _values(checkout / ".env")["PANEL_CURRENCY"] == "USD"


def test_an_older_env_keeps_the_dollars_it_ran_with(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PANEL_CURRENCY", raising=False)
    (checkout / ".env").write_text("SECRET_KEY=kept\nPANEL_LANGUAGE=vi\n")

    _write_env().main(checkout)

    assert _values(checkout / ".env")["PANEL_CURRENCY"] == "USD"
