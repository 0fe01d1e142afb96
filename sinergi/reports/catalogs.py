"""The reports' catalogs (`locale/<lang>/LC_MESSAGES/reports.po`): what Babel extracts from `templates/` and
`words.py`, kept in step by `sinergi.platform.i18n.Catalogs`; compiled by the build (`hatch_build.py`), never at
run time.

    python -m sinergi.reports.catalogs update
    .venv/bin/pip install -e .

`tests/unit/test_report_catalogs.py` fails while a catalog is stale, untranslated or fuzzy.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sinergi.platform.i18n import Catalogs
from sinergi.reports import words
from sinergi.reports.render import DOMAIN, LANGUAGES, LOCALES, TEMPLATES

CATALOGS = Catalogs(domain=DOMAIN, locales=LOCALES, templates=TEMPLATES, source=Path(words.__file__),
                    languages=LANGUAGES)
po_path, extract, read, update = CATALOGS.po_path, CATALOGS.extract, CATALOGS.read, CATALOGS.update

if __name__ == "__main__":
    if sys.argv[1:] != ["update"]:
        sys.exit("usage: python -m sinergi.reports.catalogs update")
    update()
