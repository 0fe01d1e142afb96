"""The reports' catalogs: complete, reviewed, in step with the templates and `words.py`, compiled by the build (not
at run time); every word a report shows has its translation."""

from __future__ import annotations

import pytest
from babel.support import Translations

from sinergi.domain.case import Stage
from sinergi.platform.i18n import compiled_translations
from sinergi.reports import catalogs, render, words
from sinergi.reports.render import LANGUAGES


@pytest.fixture(scope="module")
def extracted() -> set[str]:
    return {m.id for m in catalogs.extract() if m.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    catalog = catalogs.read(language)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"{language}: untranslated: {untranslated}"
    assert not fuzzy, f"{language}: fuzzy (review, then drop the flag): {fuzzy}"
    assert not catalog.fuzzy, f"{language}: the catalog header is marked fuzzy"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_translation_keeps_its_placeholders(language: str) -> None:
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalogs.read(language).check()]
    assert not problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalog_is_in_step_with_the_templates_and_words(language: str, extracted: set[str]) -> None:
    in_catalog = {m.id for m in catalogs.read(language) if m.id}
    assert not extracted - in_catalog, (
        f"{language}: new messages missing from the catalog; run `python -m sinergi.reports.catalogs update`")
    assert not in_catalog - extracted, f"{language}: messages no template uses any more; run the update"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_installed_compiled_catalog_matches_its_source(language: str) -> None:
    # The .mo is build output (hatch_build.py): an edited .po without a reinstall would print the old words.
    with (render.LOCALES / language / "LC_MESSAGES" / "reports.mo").open("rb") as fh:
        compiled = Translations(fh, domain="reports")
    stale = [m.id for m in catalogs.read(language) if m.id and compiled.gettext(m.id) != m.string]
    assert not stale, f"{language}: .mo older than .po; reinstall (`.venv/bin/pip install -e .`)"


def test_every_stage_and_column_has_words_and_every_sheet_name_fits_excel() -> None:
    assert {str(s) for s in Stage} <= set(words.VALUES)
    indonesian = compiled_translations(render.LOCALES, render.DOMAIN, "id")
    assert indonesian.gettext(words.VALUES["protection"]) == "pelindungan"
    assert indonesian.gettext(words.VALUES["breach"]) == "pelanggaran"
    for name in words.SHEET_NAMES.values():
        assert len(name) <= 31 and len(indonesian.gettext(name)) <= 31
