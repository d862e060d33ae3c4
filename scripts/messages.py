#!/usr/bin/env python3
"""The translation workflow (docs/translating.md): `make messages` runs `extract` then `compile`.

  extract  re-read the code and templates into locale/<lang>/LC_MESSAGES/django.po (needs GNU
           gettext's xgettext, like Django's makemessages; translators' work is kept)
  todo     list the entries still to translate: new (empty) and fuzzy ones, with where they
           are used; exits 1 when there are any
  compile  write the .mo files next to the .po files with polib (no system gettext needed);
           the .mo files are committed, and a test fails when one is stale

Run it with the project's Python: `.venv/bin/python scripts/messages.py todo`.
"""

import os
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("vi",)
IGNORE = (".venv", "var", "tests", "bench", "sandbox", "scripts", "docs", "smm_panel.egg-info")


def catalog_path(language: str) -> Path:
    return ROOT / "locale" / language / "LC_MESSAGES" / "django.po"


def extract() -> None:
    command = [sys.executable, "manage.py", "makemessages", "--no-wrap", "--add-location=file"]
    command += [f"--locale={language}" for language in LANGUAGES]
    command += [f"--ignore={name}/*" for name in IGNORE]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "panel.settings_test"}
    subprocess.run(command, cwd=ROOT, check=True, env=env)  # noqa: S603 - fixed arguments


def pending(language: str) -> list[polib.POEntry]:
    catalog = polib.pofile(str(catalog_path(language)))
    return [entry for entry in catalog if not entry.obsolete and not entry.translated()]


def todo() -> int:
    count = 0
    for language in LANGUAGES:
        for entry in pending(language):
            count += 1
            state = "fuzzy" if entry.fuzzy else "new"
            where = ", ".join(sorted({path for path, _ in entry.occurrences}))
            context = f" [{entry.msgctxt}]" if entry.msgctxt else ""
            print(f"{language} {state}{context}: {entry.msgid!r}  ({where})")
    print(f"{count} entr{'y' if count == 1 else 'ies'} to translate")
    return 1 if count else 0


def compile_all() -> None:
    # django.po, and djangojs.po where there is one (the admin's JavaScript words).
    for language in LANGUAGES:
        for po_path in sorted(catalog_path(language).parent.glob("*.po")):
            catalog = polib.pofile(str(po_path))
            catalog.save_as_mofile(str(po_path.with_suffix(".mo")))
            print(f"compiled {po_path.with_suffix('.mo').relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    actions = {"extract": extract, "compile": compile_all}
    if len(argv) != 2 or argv[1] not in (*actions, "todo"):
        print(__doc__)
        return 2
    if argv[1] == "todo":
        return todo()
    actions[argv[1]]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
