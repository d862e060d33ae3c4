"""docs/configuration.md is the one list of settings, and it cannot drift from the code.

The settings module (and the repository modules it imports) is parsed, not imported: every
`env(...)`, `env.<cast>(...)`, `os.environ.get/[...]` and `os.getenv` call with a literal name
is a variable the panel reads. The table must list exactly those, each with the default the
code uses; what `make run` writes into `.env` (`.env.example` with `scripts/write_env.py`'s
values over it) must be what the table says it writes.
"""

import ast
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from tests.docs_text import ROOT, code_spans, table_with_header

SETTINGS = ROOT / "panel" / "settings" / "__init__.py"
CONFIGURATION = ROOT / "docs" / "configuration.md"
ENV_EXAMPLE = ROOT / ".env.example"
WRITE_ENV = ROOT / "scripts" / "write_env.py"
# Variables the machinery sets for itself, which no person sets.
SET_BY_MACHINERY = {
    "PYTEST_XDIST_WORKER",  # pytest-xdist names each worker
    "PANEL_TEST_SENDING_MARKER",  # a notifications test hands it to the process it starts
}
_NOT_SOURCE = {".git", ".venv", "var", "node_modules", "__pycache__", "migrations"}

MISSING = object()  # no default: the variable is required
UNKNOWN = object()  # a default computed at run time (a path, a call): any text will do
_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_TRUE = {"1", "true", "on", "yes", "y", "t"}


@dataclass(frozen=True)
class Read:
    name: str
    cast: str  # env's method (str, int, bool, list, json, db_url, …), or "environ"
    default: object
    where: str


def _value(node: ast.expr) -> object:
    """A default written as a literal or arithmetic on literals (256 * 1024), else UNKNOWN."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        pass
    if isinstance(node, ast.BinOp):
        left, right = _value(node.left), _value(node.right)
        if isinstance(left, int | float) and isinstance(right, int | float):
            operators = {ast.Mult: left * right, ast.Add: left + right, ast.Sub: left - right}
            return operators.get(type(node.op), UNKNOWN)
    return UNKNOWN


def _is_os_environ(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _literal_name(args: list[ast.expr]) -> str | None:
    if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
        return args[0].value
    return None


def reads_in_source(source: str, where: str) -> list[Read]:
    """Every environment variable this source reads, with its cast and default."""
    reads: list[Read] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if _is_os_environ(node.value) and isinstance(node.slice, ast.Constant):
                reads.append(Read(str(node.slice.value), "environ", MISSING, where))
            continue
        if not isinstance(node, ast.Call):
            continue
        func, name = node.func, _literal_name(node.args)
        if name is None:
            continue
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        if isinstance(func, ast.Name) and func.id == "env":
            cast, default_node = "str", keywords.get("default")
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        ):
            cast, default_node = func.attr, keywords.get("default")
        elif (
            isinstance(func, ast.Attribute) and func.attr == "get" and _is_os_environ(func.value)
        ) or (
            isinstance(func, ast.Attribute)
            and func.attr == "getenv"
            and isinstance(func.value, ast.Name)
            and func.value.id == "os"
        ):
            cast = "environ"
            default_node = node.args[1] if len(node.args) > 1 else keywords.get("default")
        else:
            continue
        default = MISSING if default_node is None else _value(default_node)
        reads.append(Read(name, cast, default, where))
    return reads


def _imported_repo_modules(path: Path) -> list[Path]:
    """The repository's own modules a file imports (`from panel.x import …`, `import core.y`)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    found = []
    for name in names:
        base = ROOT.joinpath(*name.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                found.append(candidate)
    return found


def settings_reads() -> dict[str, Read]:
    """What `panel/settings/` and the repository modules it imports (transitively) read."""
    reads: dict[str, Read] = {}
    todo, seen = [SETTINGS], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for read in reads_in_source(path.read_text(), str(path.relative_to(ROOT))):
            reads.setdefault(read.name, read)
        todo.extend(_imported_repo_modules(path))
    return reads


@dataclass(frozen=True)
class Row:
    name: str
    default: str
    make_run: str
    meaning: str


def _only_name(cell: str) -> str:
    names = code_spans(cell)
    assert len(names) == 1 and _NAME.match(names[0]), (
        f"one variable per row, in backticks: {cell!r}"
    )
    return names[0]


def settings_table() -> dict[str, Row]:
    rows = table_with_header(CONFIGURATION.read_text(), ("variable", "default"))
    table: dict[str, Row] = {}
    for cells in rows:
        assert len(cells) == 4, f"variable | default | make run writes | meaning: {cells}"
        row = Row(_only_name(cells[0]), cells[1], cells[2], cells[3])
        assert row.name not in table, f"{row.name} is listed twice"
        assert row.meaning, f"{row.name} says nothing about what it means"
        table[row.name] = row
    return table


def tools_table() -> dict[str, list[str]]:
    """Variables of the processes and tools around the panel, with the files that read them."""
    rows = table_with_header(CONFIGURATION.read_text(), ("variable", "read by"))
    return {_only_name(cells[0]): code_spans(cells[1]) for cells in rows}


def _cell_value(cell: str) -> str | None:
    """What a default or `make run` cell states: `required`, *empty*, or its first code span;
    None for a cell that names no exact value (one computed at run time)."""
    text = cell.strip().strip("*_").lower()
    if text.startswith("required"):
        return "required"
    if text.startswith("empty"):
        return ""
    spans = code_spans(cell)
    return spans[0] if spans else None


def _as_env_text(value: object) -> str:
    """A Python default as it would be written in `.env`."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _same(cast: str, one: str, other: str) -> bool:
    """Equal as the settings would read them: on/True/1 alike for a bool, 1/1.0 for a number."""
    if cast == "bool":
        return (one.strip().lower() in _TRUE) == (other.strip().lower() in _TRUE)
    try:
        return Decimal(one) == Decimal(other)
    except InvalidOperation:
        return one.strip() == other.strip()


def env_example_values() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[name.strip()] = value.strip()
    return values


def write_env_values() -> dict[str, object]:
    """The values write_env puts over `.env.example` (UNKNOWN where it computes one: a
    secret, a path)."""
    values: dict[str, object] = {}
    for node in ast.walk(ast.parse(WRITE_ENV.read_text())):
        if isinstance(node, ast.Dict):
            for key, value_node in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and _NAME.match(str(key.value)):
                    literal = _value(value_node)
                    values[str(key.value)] = literal if isinstance(literal, str) else UNKNOWN
    return values


def make_run_values() -> dict[str, object]:
    """What `make run` writes into `.env`: `.env.example`, then write_env's values over it."""
    return {**env_example_values(), **write_env_values()}


# --- the reader itself ------------------------------------------------------------------------


def test_the_reader_finds_every_way_settings_read_the_environment() -> None:
    source = """
import os
A = env("PLAIN")
B = env.int("AN_INT", default=256 * 1024)
C = env.bool("A_BOOL", default=True)
D = env.db_url("A_DATABASE")
E = os.environ.get("FROM_OS", "x")
F = os.environ["SUBSCRIPTED"]
G = os.getenv("GETENV")
os.environ["WRITTEN"] = ""
os.environ.setdefault("DEFAULTED", "1")
vars().update(env.email_url("MAIL", default="smtp://localhost:25"))
"""
    reads = {read.name: read for read in reads_in_source(source, "example")}

    assert set(reads) == {
        "PLAIN",
        "AN_INT",
        "A_BOOL",
        "A_DATABASE",
        "FROM_OS",
        "SUBSCRIPTED",
        "GETENV",
        "MAIL",
    }
    assert reads["AN_INT"].default == 262144
    assert reads["A_DATABASE"].default is MISSING
    assert reads["A_BOOL"].cast == "bool"
    assert _as_env_text(reads["A_BOOL"].default) == "on"


def test_the_reader_follows_the_settings_own_imports() -> None:
    found = _imported_repo_modules(ROOT / "panel" / "settings_test.py")

    assert SETTINGS in found


# --- the table against the code ---------------------------------------------------------------


def test_every_variable_the_settings_read_is_in_the_table() -> None:
    missing = {
        name: read.where for name, read in settings_reads().items() if name not in settings_table()
    }

    assert missing == {}, f"read by the settings but not in docs/configuration.md: {missing}"


def test_the_table_lists_no_variable_nobody_reads() -> None:
    unread = sorted(set(settings_table()) - set(settings_reads()))

    assert unread == [], f"in docs/configuration.md but read by no setting: {unread}"


def test_the_table_gives_the_defaults_the_settings_use() -> None:
    table, wrong = settings_table(), []
    for name, read in settings_reads().items():
        if name not in table or read.default is UNKNOWN:
            continue
        stated = _cell_value(table[name].default)
        expected = "required" if read.default is MISSING else _as_env_text(read.default)
        if stated is None or not _same(read.cast, stated, expected):
            wrong.append(f"{name}: the table says {table[name].default!r}, the code {expected!r}")

    assert wrong == []


@pytest.mark.parametrize(
    "written", [env_example_values, write_env_values], ids=[".env.example", "write_env.py"]
)
def test_what_make_run_writes_is_a_documented_variable(written: Callable[[], dict]) -> None:
    documented = set(settings_table()) | set(tools_table())

    assert sorted(set(written()) - documented) == []


def test_the_table_says_what_make_run_writes() -> None:
    table, reads, wrong = settings_table(), settings_reads(), []
    written = make_run_values()
    for name, value in written.items():
        if name not in table:
            continue  # a tool's variable: the test above checks it is documented
        row = table[name]
        if value is UNKNOWN:
            if not row.make_run:
                wrong.append(f"{name}: make run computes its value; say what it is")
            continue
        stated = _cell_value(row.make_run or row.default)
        cast = reads[name].cast if name in reads else "str"
        if stated in (None, "required") or not _same(cast, str(stated), str(value)):
            wrong.append(f"{name}: make run writes {value!r}, the table says {stated!r}")
    for name, row in table.items():
        if row.make_run and name not in written:
            wrong.append(f"{name}: the table says make run writes it, but nothing does")

    assert wrong == []


def test_tool_variables_are_read_where_the_table_says() -> None:
    tools, wrong = tools_table(), []
    for name, readers in tools.items():
        if not readers:
            wrong.append(f"{name}: name the file that reads it")
        for reader in readers:
            path = ROOT / reader
            if not path.is_file() or name not in path.read_text():
                wrong.append(f"{name}: not read by {reader}")

    assert wrong == []


def _python_files() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [
            name for name in dirs if name not in _NOT_SOURCE and not name.endswith(".egg-info")
        ]
        found += [Path(folder) / name for name in files if name.endswith(".py")]
    return found


def test_every_variable_the_repository_reads_is_documented() -> None:
    """Scripts, the benchmarks, gunicorn's config and the tests read variables of their own:
    each is a setting or a row of the tools table."""
    documented = set(settings_table()) | set(tools_table()) | SET_BY_MACHINERY
    undocumented = sorted(
        {
            f"{read.name} ({read.where})"
            for path in _python_files()
            for read in reads_in_source(path.read_text(), str(path.relative_to(ROOT)))
            if read.name not in documented
        }
    )

    assert undocumented == []
