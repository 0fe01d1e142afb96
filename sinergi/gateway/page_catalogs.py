"""The referral page's catalogs: the messages Babel extracts from `page_templates/` and `referral_page.py`, and the
`.po` files kept in step with them (`locale/<lang>/LC_MESSAGES/referral_page.po`). The page reads the `.po` as it
loads (`referral_page._translations`); nothing is compiled at build time.

A maintainer who changed the page's words refreshes the catalogs and translates what is new or fuzzy:

    python -m sinergi.gateway.page_catalogs update

`tests/unit/test_referral_page_parts.py` fails while a catalog is stale, untranslated or fuzzy.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

from sinergi.gateway import referral_page
from sinergi.gateway.referral_page import DOMAIN, LANGUAGES, LOCALES, TEMPLATES

_TEMPLATE_METHODS = [("**.html", "jinja2")]
_TEMPLATE_OPTIONS = {"**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    """Every message the page can show, with where it comes from."""
    catalog = Catalog(project="sinergi", domain=DOMAIN)
    root = TEMPLATES.parent
    for filename, lineno, message, comments, context in extract_from_dir(TEMPLATES, _TEMPLATE_METHODS,
                                                                         _TEMPLATE_OPTIONS):
        catalog.add(message, locations=[(f"{TEMPLATES.name}/{filename}", lineno)], auto_comments=comments,
                    context=context)
    source = Path(referral_page.__file__)
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
        sys.exit("usage: python -m sinergi.gateway.page_catalogs update")
    update()
