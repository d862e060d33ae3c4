"""Reading the Markdown docs the way the doc tests need: prose without code blocks, tables as
rows of cells, and the first code span of a cell."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What a newcomer reads: the README and everything in docs/.
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(```|~~~)")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks: commands and diagrams are not links."""
    lines: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def code_spans(line: str) -> list[str]:
    return _CODE_SPAN.findall(line)


def split_row(line: str) -> list[str]:
    """The cells of a table row; a `|` inside a code span stays in its cell."""
    cells, cell, in_code = [], "", False
    for char in line.strip().strip("|"):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += char
    cells.append(cell.strip())
    return cells


def tables(text: str) -> list[list[list[str]]]:
    """Every table as its rows of cells, the header row first, the --- row left out."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for _, line in [*prose_lines(text), (0, "")]:
        if line.lstrip().startswith("|"):
            cells = split_row(line)
            if not all(set(cell) <= set("-: ") for cell in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def table_with_header(text: str, first_cells: tuple[str, ...]) -> list[list[str]]:
    """The body of the one table whose header starts with these cells."""
    matches = [
        table[1:]
        for table in tables(text)
        if tuple(cell.lower() for cell in table[0][: len(first_cells)]) == first_cells
    ]
    assert len(matches) == 1, f"expected one table headed {first_cells}, found {len(matches)}"
    return matches[0]
