"""The persistence seam holds: SQL by hand, cursors and vendor checks live in core/db only,
and core/db (like all of core) imports no app, so every app may import it.

ruff's banned-api keeps `django.db.connection(s)` and RawSQL out of the rest (pyproject.toml);
this catches what an import ban cannot see: a cursor or raw query reached through an object."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PRODUCT = (
    "core",
    "accounts",
    "notifications",
    "payments",
    "providers",
    "orders",
    "support",
    "panel",
)
APPS = frozenset(PRODUCT) - {"core"}
SEAM = ROOT / "core" / "db"
# What the embedded-PostgreSQL work removes in its own files (backups); nothing may
# join them.
_SQLITE_LEFT_ELSEWHERE = frozenset({"panel/backups.py", "panel/management/commands/backup_db.py"})


def _product_files() -> list[Path]:
    return sorted(
        path
        for package in PRODUCT
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def _outside_the_seam() -> list[Path]:
    return [path for path in _product_files() if SEAM not in path.parents]


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), filename=str(path))


def test_no_cursor_raw_query_or_vendor_check_outside_core_db() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}"
        for path in _outside_the_seam()
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Attribute) and node.attr in {"raw", "cursor", "vendor"}
    ]
    assert found == []


def test_no_sqlite_in_product_code() -> None:
    found = {
        str(path.relative_to(ROOT))
        for path in _product_files()
        if "sqlite" in path.read_text().lower()
    }
    assert found <= _SQLITE_LEFT_ELSEWHERE


def test_core_imports_no_app() -> None:
    found = []
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(_tree(path)):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [
                f"{path.relative_to(ROOT)}: {name}" for name in names if name.split(".")[0] in APPS
            ]
    assert found == []
