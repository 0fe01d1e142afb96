"""The referral page's catalogs (`locale/<lang>/LC_MESSAGES/referral_page.po`): what Babel extracts from
`page_templates/` and `referral_page.py`, kept in step by `sinergi.platform.i18n.Catalogs`; compiled by the
build (`hatch_build.py`), never at run time.

    python -m sinergi.gateway.page_catalogs update
    .venv/bin/pip install -e .

`tests/unit/test_referral_page_parts.py` fails while a catalog is stale, untranslated or fuzzy.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sinergi.gateway import referral_page
from sinergi.gateway.referral_page import DOMAIN, LANGUAGES, LOCALES, TEMPLATES
from sinergi.platform.i18n import Catalogs

CATALOGS = Catalogs(domain=DOMAIN, locales=LOCALES, templates=TEMPLATES, source=Path(referral_page.__file__),
                    languages=LANGUAGES)
po_path, extract, read, update = CATALOGS.po_path, CATALOGS.extract, CATALOGS.read, CATALOGS.update

if __name__ == "__main__":
    if sys.argv[1:] != ["update"]:
        sys.exit("usage: python -m sinergi.gateway.page_catalogs update")
    update()
