"""The Vietnamese catalog keeps the glossary: the words Vietnamese panels use (issue 23).

The terms and their words are read from the "Checked by the tests" list in docs/translating.md,
whose words must stand in the word table above it; the catalog is locale/vi's .po file."""

import re
from dataclasses import dataclass, field
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CATALOG = ROOT / "locale" / "vi" / "LC_MESSAGES" / "django.po"
GUIDE = ROOT / "docs" / "translating.md"

RULE = re.compile(r"^(?P<term>\S.*?) => (?P<words>.+)$")
EXCEPT = re.compile(r"^\s+except (?P<pattern>.+?) : (?P<reason>.+)$")
# What the English says around the term but is not its text: placeholders and code.
NOT_TEXT = re.compile(r"<code>.*?</code>|%\(\w+\)[sd]|\{\w+\}")
# "Phí" is forbidden for an order's amount (it reads as a fee); a real fee is one.
A_FEE = re.compile(r"(?<![\w-])fees?(?![\w-])", re.I)
NEVER = re.compile(r"never[^“|]*“([^”]+)”(?: or “([^”]+)”)?")


@dataclass
class Term:
    english: str
    words: list[str]
    exceptions: list[tuple[re.Pattern[str], str]] = field(default_factory=list)

    def in_english(self, msgid: str) -> bool:
        text = NOT_TEXT.sub(" ", msgid)
        return re.search(rf"(?<![\w-]){re.escape(self.english)}(?![\w-])", text, re.I) is not None

    def excepted(self, msgid: str) -> bool:
        return any(pattern.search(msgid) for pattern, _ in self.exceptions)


def _guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def _word_table(text: str) -> str:
    """The table rows: what the checked words must come from."""
    return "\n".join(line for line in text.splitlines() if line.startswith("| "))


def _terms(text: str) -> list[Term]:
    block = re.search(r"```glossary\n(.*?)```", text, re.S)
    assert block, "docs/translating.md lost its ```glossary list"
    terms: list[Term] = []
    for line in block.group(1).splitlines():
        if rule := RULE.match(line):
            words = [word.strip() for word in rule["words"].split("|")]
            terms.append(Term(rule["term"].strip(), words))
        elif exception := EXCEPT.match(line):
            terms[-1].exceptions.append(
                (re.compile(exception["pattern"], re.I), exception["reason"])
            )
        elif line.strip():
            raise AssertionError(f"unreadable glossary line: {line!r}")
    return terms


def _entries() -> list[polib.POEntry]:
    return [entry for entry in polib.pofile(str(CATALOG)) if not entry.obsolete]


def _translations(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


TERMS = _terms(_guide())


def test_the_checked_list_is_read_and_covers_the_issue_s_drifts() -> None:
    english = {term.english for term in TERMS}

    assert {"charge", "username", "poll", "route", "remains", "partial", "api key"} <= english
    assert all(term.words for term in TERMS)


@pytest.mark.parametrize("term", TERMS, ids=[term.english for term in TERMS])
def test_every_checked_word_stands_in_the_word_table(term: Term) -> None:
    table = _word_table(_guide()).casefold()

    assert [word for word in term.words if word.casefold() not in table] == []


@pytest.mark.parametrize("term", TERMS, ids=[term.english for term in TERMS])
def test_the_catalog_uses_the_glossary_word_for_each_term(term: Term) -> None:
    wrong = [
        (entry.msgctxt, entry.msgid, translation)
        for entry in _entries()
        if term.in_english(entry.msgid) and not term.excepted(entry.msgid)
        for translation in _translations(entry)
        if not any(word.casefold() in translation.casefold() for word in term.words)
    ]

    assert wrong == [], f"use {' / '.join(term.words)} (docs/translating.md)"


@pytest.mark.parametrize(
    "term", [term for term in TERMS if term.exceptions], ids=lambda term: term.english
)
def test_every_exception_still_excuses_an_entry(term: Term) -> None:
    """An exception nothing needs any more is taken out, so the allow-list stays short."""
    stale = [
        pattern.pattern
        for pattern, _ in term.exceptions
        if not any(
            term.in_english(entry.msgid) and pattern.search(entry.msgid) for entry in _entries()
        )
    ]

    assert stale == []


def test_no_translation_uses_a_word_the_glossary_forbids() -> None:
    forbidden = {word for pair in NEVER.findall(_word_table(_guide())) for word in pair if word}
    assert {"Chi phí", "Phí", "Tên tài khoản", "tuyến", "Còn thiếu", "Khóa API", "Vé"} <= forbidden

    found = [
        (word, entry.msgid, translation)
        for entry in _entries()
        for translation in _translations(entry)
        for word in forbidden
        if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", translation, re.I)
        and not (word == "Phí" and A_FEE.search(entry.msgid))
    ]

    assert found == []


def test_the_check_catches_a_drift() -> None:
    charge = next(term for term in TERMS if term.english == "charge")
    route = next(term for term in TERMS if term.english == "route")

    assert charge.in_english("Estimated charge: %(amount)s")
    assert not charge.in_english("%(charge)s refunded")  # a placeholder is not the word
    assert not any(word.casefold() in "phí dự kiến" for word in charge.words)
    assert route.in_english("Add route") and not route.in_english("router")
    assert charge.excepted("Or the provider's charge for it")
