"""The e-mail catalogs' messages: what Babel extracts from the templates and `email_render`, and the `.po`
files kept in step with it. Compiling to `.mo` is the package build's job (`hatch_build.py`), not this module's.

A maintainer who changed a template's words refreshes the catalogs, translates what is new or fuzzy, and
reinstalls (which compiles them):

    python -m sinergi.adapters.email_catalogs update
    .venv/bin/pip install -e .

`tests/unit/test_email_catalogs.py` fails while a catalog is stale, untranslated or fuzzy.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

from sinergi.adapters import email_render
from sinergi.adapters.email_render import DOMAIN, LANGUAGES, LOCALES, TEMPLATES

# The templates' gettext calls and blocks, read with the same options the renderer runs them with.
_TEMPLATE_METHODS = [("**.txt", "jinja2"), ("**.html", "jinja2")]
_TEMPLATE_OPTIONS = {pattern: {"extensions": "jinja2.ext.i18n", "trimmed": "true"} for pattern, _ in _TEMPLATE_METHODS}


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    """Every message the e-mails can show, with where it comes from."""
    catalog = Catalog(project="sinergi", domain=DOMAIN)
    root = TEMPLATES.parent
    for filename, lineno, message, comments, context in extract_from_dir(
            TEMPLATES, _TEMPLATE_METHODS, _TEMPLATE_OPTIONS):
        catalog.add(message, locations=[(f"{TEMPLATES.name}/{filename}", lineno)], auto_comments=comments,
                    context=context)
    source = Path(email_render.__file__)
    for lineno, message, comments, context in extract_from_file("python", source):
        catalog.add(message, locations=[(str(source.relative_to(root)), lineno)], auto_comments=comments,
                    context=context)
    return catalog


def read(language: str) -> Catalog:
    with po_path(language).open("rb") as fh:
        return read_po(fh, locale=language, domain=DOMAIN)


def update() -> None:
    """Bring each language's `.po` in step with the extracted messages (new ones empty, changed ones fuzzy)."""
    template = extract()
    for language in LANGUAGES:
        path = po_path(language)
        if path.is_file():
            catalog = read(language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, project="sinergi", domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=False)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=120, ignore_obsolete=True, include_previous=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["update"]:
        sys.exit("usage: python -m sinergi.adapters.email_catalogs update")
    update()
