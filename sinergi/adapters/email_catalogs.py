"""The e-mails' catalogs (`email_templates/locale/<lang>/LC_MESSAGES/email.po`): what Babel extracts from the
templates and `email_render`, kept in step by `sinergi.platform.i18n.Catalogs`; compiled by the build.

    python -m sinergi.adapters.email_catalogs update
    .venv/bin/pip install -e .

`tests/unit/test_email_catalogs.py` fails while a catalog is stale, untranslated or fuzzy.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sinergi.adapters import email_render
from sinergi.adapters.email_render import DOMAIN, LANGUAGES, LOCALES, TEMPLATES
from sinergi.platform.i18n import Catalogs

CATALOGS = Catalogs(domain=DOMAIN, locales=LOCALES, templates=TEMPLATES, source=Path(email_render.__file__),
                    languages=LANGUAGES, patterns=("**.txt", "**.html"))
po_path, extract, read, update = CATALOGS.po_path, CATALOGS.extract, CATALOGS.read, CATALOGS.update

if __name__ == "__main__":
    if sys.argv[1:] != ["update"]:
        sys.exit("usage: python -m sinergi.adapters.email_catalogs update")
    update()
