"""Every relative link and every repository path in backticks in README.md and docs/*.md leads
somewhere that exists, so the docs never send a newcomer to a file that was renamed away.

A code span counts as a path when it is one word that contains a `/` or ends in a file
extension (`orders/lifecycle/`, `gunicorn.conf.py`); URLs, URL paths (`/api/v2`), commands
and placeholders (`var/backups/panel-<time>.dump`) are not checked. A `file.py:name` or
`file.py::test` span is checked for its file. Fenced code blocks are left out.
"""

import functools
import os
import re
import unicodedata
from pathlib import Path

import pytest

from tests.docs_text import DOC_FILES, ROOT, code_spans, prose_lines

README_MAX_LINES = 150
# Created at run time, never in a checkout.
RUNTIME_PATHS = (".env", ".venv/", "var/")
EXTENSIONS = r"py|md|toml|ya?ml|cfg|ini|conf|po|mo|txt|json|sh|html|css|js|example"
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
_PATHLIKE = re.compile(rf"^[\w.-]+(/[\w.-]*)+$|^[\w.-]+\.({EXTENSIONS})$")
_EXTENSION = re.compile(rf"\.({EXTENSIONS})$")
RUNTIME_TOPS = {path.strip("/") for path in RUNTIME_PATHS}
_SKIPPED_DIRS = {".git", ".venv", "node_modules", "var", "__pycache__"}


@functools.cache
def _repo_file_names() -> frozenset[str]:
    names: set[str] = set()
    for _folder, dirs, files in os.walk(ROOT):
        dirs[:] = [name for name in dirs if name not in _SKIPPED_DIRS]
        names.update(files)
        names.update(dirs)
    return frozenset(names)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = "".join(char for char in text if char in " -" or unicodedata.category(char)[0] in "LN")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for _, line in prose_lines(path.read_text()):
        if match := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line):
            slug, n = _slug(match.group(1)), 1
            candidate = slug
            while candidate in found:
                candidate, n = f"{slug}-{n}", n + 1
            found.add(candidate)
    return found


def broken_links(doc: Path) -> list[str]:
    broken = []
    for number, line in prose_lines(doc.read_text()):
        for target in _LINK.findall(re.sub(r"`[^`]*`", "", line)):
            if _SCHEME.match(target):
                continue
            path_part, _, anchor = target.partition("#")
            path = (doc.parent / path_part).resolve() if path_part else doc
            if not path.exists():
                broken.append(f"{doc.name}:{number}: {target} (no such file)")
            elif anchor and path.suffix == ".md" and anchor not in anchors(path):
                broken.append(f"{doc.name}:{number}: {target} (no such heading)")
    return broken


def is_repo_path(span: str) -> bool:
    """A file name, or a path that names a file or starts at one of the checkout's top-level
    entries: `1200/min` and `application/json` are not paths."""
    if not _PATHLIKE.match(span) or span.startswith(("-", "..")):
        return False
    head = span.split("/")[0]
    return (
        "/" not in span
        or bool(_EXTENSION.search(span))
        or (ROOT / head).exists()
        or head in RUNTIME_TOPS
    )


def missing_paths(doc: Path, names: frozenset[str]) -> list[str]:
    missing = []
    for number, line in prose_lines(doc.read_text()):
        for span in code_spans(line):
            span = span.split("::")[0]
            span = re.sub(r"(\.\w+):[\w.]+$", r"\1", span)  # file.py:function
            if not is_repo_path(span) or span.startswith(RUNTIME_PATHS) or span in RUNTIME_PATHS:
                continue
            if "/" in span:
                exists = (ROOT / span).exists() or (doc.parent / span).exists()
            else:
                exists = span in names
            if not exists:
                missing.append(f"{doc.name}:{number}: `{span}`")
    return missing


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda path: path.name)
def test_every_relative_link_resolves(doc: Path) -> None:
    assert broken_links(doc) == []


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda path: path.name)
def test_every_backticked_repository_path_exists(doc: Path) -> None:
    assert missing_paths(doc, _repo_file_names()) == []


def test_the_checks_see_what_they_should(tmp_path: Path) -> None:
    doc = tmp_path / "example.md"
    doc.write_text(
        "# A heading, with `code`\n\n"
        "[gone](missing.md) [here](example.md#a-heading-with-code) [nowhere](#not-a-heading)\n"
        "[site](https://example.com) `accounts/money.py` `orders/lifecycle/` `/api/v2`\n"
        "`var/backups/panel-<time>.dump` `make restore FILE=x` `gunicorn.conf.py` `nothing_here.py`\n"
        "```\n[in a block](nowhere.md) `nowhere/at/all.py`\n```\n"
    )

    assert broken_links(doc) == [
        "example.md:3: missing.md (no such file)",
        "example.md:3: #not-a-heading (no such heading)",
    ]
    assert missing_paths(doc, _repo_file_names()) == [
        "example.md:4: `accounts/money.py`",
        "example.md:5: `nothing_here.py`",
    ]


def test_the_readme_stays_short() -> None:
    """The README says what the panel is, the two commands, what you will see and where to read
    next; everything else belongs in docs/."""
    lines = (ROOT / "README.md").read_text().splitlines()

    assert len(lines) <= README_MAX_LINES
