"""The e-mail catalogs: complete, reviewed, in step with the templates, compiled by the build (not at run time);
the words for every service and stage; dates in the office's form and zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from babel.support import Translations

from sinergi.adapters import email_catalogs, email_render
from sinergi.adapters.email_render import (
    LANGUAGES,
    SERVICE_WORDS,
    STAGE_WORDS,
    CatalogsMissing,
    EmailRenderer,
    local_datetime,
)
from sinergi.domain.case import Stage
from sinergi.domain.durations import province_zone
from sinergi.domain.routing import SERVICES


@pytest.fixture(scope="module")
def extracted():
    return {m.id for m in email_catalogs.extract() if m.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    catalog = email_catalogs.read(language)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"{language}: untranslated: {untranslated}"
    assert not fuzzy, f"{language}: fuzzy (review, then drop the flag): {fuzzy}"
    assert not catalog.fuzzy, f"{language}: the catalog header is marked fuzzy"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_translation_keeps_its_placeholders(language: str) -> None:
    # Babel's checkers: a msgstr that drops or renames `%(case_id)s` would fail at render time.
    problems = [(m.id, [str(e) for e in errors]) for m, errors in email_catalogs.read(language).check()]
    assert not problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalog_is_in_step_with_the_templates(language: str, extracted: set[str]) -> None:
    in_catalog = {m.id for m in email_catalogs.read(language) if m.id}
    assert not extracted - in_catalog, (
        f"{language}: new messages missing from the catalog; run `python -m sinergi.adapters.email_catalogs update`")
    assert not in_catalog - extracted, f"{language}: messages no template uses any more; run the update"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_installed_compiled_catalog_matches_its_source(language: str) -> None:
    # The .mo is build output (hatch_build.py): an edited .po without a reinstall would mail the old words.
    with (email_render.LOCALES / language / "LC_MESSAGES" / "email.mo").open("rb") as fh:
        compiled = Translations(fh, domain="email")
    stale = [m.id for m in email_catalogs.read(language) if m.id and compiled.gettext(m.id) != m.string]
    assert not stale, f"{language}: .mo older than .po; reinstall (`.venv/bin/pip install -e .`)"


def test_without_compiled_catalogs_the_renderer_refuses_to_start(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(email_render, "LOCALES", tmp_path)
    with pytest.raises(CatalogsMissing, match="pip install -e"):
        EmailRenderer()


def test_every_service_and_stage_has_words_in_both_languages() -> None:
    assert set(SERVICES) <= set(SERVICE_WORDS)
    assert {str(s) for s in Stage} <= set(STAGE_WORDS)
    renderer = EmailRenderer()
    assert renderer.words("id", SERVICE_WORDS["social"]) == "rehabilitasi sosial"
    assert renderer.words("en", SERVICE_WORDS["social"]) == "social rehabilitation"
    assert renderer.words("id", SERVICE_WORDS["shelter"]) == "penempatan di rumah aman"


@pytest.mark.parametrize(("language", "province", "expected"), [
    ("id", "KALSEL", "27 November 2026 08.00 WITA"),
    ("en", "KALSEL", "27 November 2026 08:00 WITA"),
    ("id", "DKI", "27 November 2026 07.00 WIB"),
    ("id", "PAPUA", "27 November 2026 09.00 WIT"),
])
def test_dates_are_in_the_offices_zone_and_form(language, province, expected) -> None:
    moment = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    assert local_datetime(moment, province_zone(province), language) == expected


def test_indonesian_months_are_spelled_the_indonesian_way() -> None:
    assert local_datetime(datetime(2026, 12, 3, 0, 0, tzinfo=UTC), province_zone("KALSEL"), "id") == (
        "3 Desember 2026 08.00 WITA")
