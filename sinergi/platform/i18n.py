"""What the e-mails and the referral page share to speak the office's language (SPEC "Language"): their
gettext catalogs (extracted by Babel, kept as `.po`, compiled to `.mo` by the build: `hatch_build.py`), the
compiled catalog a process loads, and dates in the Indonesian form in the office's zone.

A maintainer who changed the words of one of them refreshes its catalogs and translates what is new or
fuzzy (`python -m sinergi.adapters.email_catalogs update`, `python -m sinergi.gateway.page_catalogs update`),
then reinstalls, which compiles them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from babel.dates import get_month_names
from babel.support import Translations

from sinergi.domain.agencies import Office
from sinergi.domain.durations import province_zone


class CatalogsMissing(RuntimeError):
    """A compiled catalog is absent: the package was not installed with its build."""


def compiled_translations(locales: Path, domain: str, language: str) -> Translations:
    """The compiled catalog of `domain` in `language`; never compiled here, never an English fallback."""
    compiled = locales / language / "LC_MESSAGES" / f"{domain}.mo"
    if not compiled.is_file():
        # Translations.load would quietly fall back to the English source: an Indonesian office must never
        # read a half-English mail or page because a build step was skipped.
        raise CatalogsMissing(f"{compiled} is missing: the catalogs are compiled when the package is built "
                              "(`pip install -e .` or `make install`)")
    with compiled.open("rb") as fh:
        return Translations(fh, domain=domain)


# Where Indonesia's missions serve migrant workers: each country's one zone (none of them keeps summer time),
# with the abbreviation its people read. A mission in a country not listed reads in WIB, as Jakarta does.
COUNTRY_ZONES = {
    "MY": (8, "MYT"), "SG": (8, "SGT"), "BN": (8, "BNT"), "HK": (8, "HKT"), "TW": (8, "CST"), "CN": (8, "CST"),
    "PH": (8, "PHT"), "KH": (7, "ICT"), "TH": (7, "ICT"), "VN": (7, "ICT"), "MM": (6.5, "MMT"), "KR": (9, "KST"),
    "JP": (9, "JST"), "TL": (9, "TLT"), "SA": (3, "AST"), "QA": (3, "AST"), "KW": (3, "AST"), "BH": (3, "AST"),
    "JO": (3, "AST"), "IQ": (3, "AST"), "AE": (4, "GST"), "OM": (4, "GST"), "TR": (3, "TRT"),
}


def office_zone(office: Office) -> timezone:
    """The office's own zone: its (first) province's; a mission abroad reads in its country's time; national
    offices in WIB (Jakarta)."""
    if office.provinces:
        return province_zone(office.provinces[0])
    for country in office.countries:
        if country.upper() in COUNTRY_ZONES:
            hours, name = COUNTRY_ZONES[country.upper()]
            return timezone(timedelta(hours=hours), name)
    return province_zone("DKI")


def local_datetime(value: datetime, zone: timezone, language: str) -> str:
    """`3 Desember 2026 08.00 WITA` (Indonesian form) or `3 December 2026 08:00 WITA`, in `zone`."""
    local = value.astimezone(zone)
    month = get_month_names("wide", locale=language)[local.month]
    clock = f"{local:%H.%M}" if language == "id" else f"{local:%H:%M}"
    return f"{local.day} {month} {local.year} {clock} {zone.tzname(None)}"


@dataclass(frozen=True)
class Catalogs:
    """One set of catalogs: the messages Babel extracts from `templates` (and `source`, a Python module),
    and the `.po` file of each language kept in step with them."""

    domain: str
    locales: Path
    templates: Path
    source: Path
    languages: tuple[str, ...]
    patterns: tuple[str, ...] = ("**.html",)

    def po_path(self, language: str) -> Path:
        return self.locales / language / "LC_MESSAGES" / f"{self.domain}.po"

    def extract(self):
        """Every message it can show, with where it comes from."""
        from babel.messages.catalog import Catalog
        from babel.messages.extract import extract_from_dir, extract_from_file

        # The templates' gettext calls and blocks, read with the options the renderers run them with.
        methods = [(pattern, "jinja2") for pattern in self.patterns]
        options = {pattern: {"extensions": "jinja2.ext.i18n", "trimmed": "true"} for pattern in self.patterns}
        catalog = Catalog(project="sinergi", domain=self.domain)
        root = self.templates.parent
        for filename, lineno, message, comments, context in extract_from_dir(self.templates, methods, options):
            catalog.add(message, locations=[(f"{self.templates.name}/{filename}", lineno)], auto_comments=comments,
                        context=context)
        for lineno, message, comments, context in extract_from_file("python", self.source):
            catalog.add(message, locations=[(str(self.source.relative_to(root)), lineno)], auto_comments=comments,
                        context=context)
        return catalog

    def read(self, language: str):
        from babel.messages.pofile import read_po

        with self.po_path(language).open("rb") as fh:
            return read_po(fh, locale=language, domain=self.domain)

    def update(self) -> None:
        """Bring each language's `.po` in step with the extracted messages (new ones empty, changed ones fuzzy)."""
        from babel.messages.catalog import Catalog
        from babel.messages.pofile import write_po

        template = self.extract()
        for language in self.languages:
            path = self.po_path(language)
            if path.is_file():
                catalog = self.read(language)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                catalog = Catalog(locale=language, project="sinergi", domain=self.domain)
            catalog.update(template, no_fuzzy_matching=False)
            with path.open("wb") as fh:
                write_po(fh, catalog, width=120, ignore_obsolete=True, include_previous=True)
