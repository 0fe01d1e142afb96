"""The referral page's parts that need no server: catalogs, words, the CSP's style hash, escaping, the passcode
lock and the forms' MAC. The page itself runs in tests/integration/test_referral_page.py."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest

from sinergi.domain.agencies import Office
from sinergi.gateway import page_catalogs, referral_page
from sinergi.gateway.referral_page import (
    CSS,
    ENVIRONMENTS,
    LANGUAGES,
    SECURITY_HEADERS,
    Page,
    PasscodeLocks,
    _mac,
    _render,
    local_datetime,
)
from sinergi.workflows import messages as m

OFFICE = Office(id="dinsos_banjar", name="Dinas Sosial Kabupaten Banjar", kind="dinsos", provinces=["KALSEL"],
                adapter="email", receives=["person.full_name"])
NOW = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalog_holds_every_message_of_the_page_translated_and_reviewed(language):
    extracted = {message.id for message in page_catalogs.extract() if message.id}
    catalog = page_catalogs.read(language)
    held = {message.id for message in catalog if message.id}
    assert extracted == held, "stale catalog: run `python -m sinergi.gateway.page_catalogs update` and translate"
    for message in catalog:
        if message.id:
            assert message.string, f"{language}: untranslated {message.id!r}"
            assert not message.fuzzy, f"{language}: fuzzy {message.id!r}"
            # The same placeholders on both sides, or the page fails (or shows `%(...)s`) at run time.
            assert set(re.findall(r"%\(\w+\)s", message.id)) == set(re.findall(r"%\(\w+\)s", message.string))


def test_the_indonesian_page_uses_the_words_a_civil_servant_uses():
    words = referral_page.TRANSLATIONS["id"].gettext
    assert words("Referral %(id)s") == "Rujukan %(id)s"
    assert words("Due") == "Tenggat"
    assert words("Access code") == "Kode akses"
    assert words("Accept the referral") == "Menerima rujukan"
    assert words("Decline the referral") == "Menolak rujukan"


def test_dates_read_in_the_office_zone_and_in_its_language():
    at = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    assert local_datetime(at, OFFICE, "id") == "27 November 2026 08.00 WITA"
    assert local_datetime(datetime(2026, 12, 3, 1, 5, tzinfo=UTC), OFFICE, "id") == "3 Desember 2026 09.05 WITA"
    assert local_datetime(at, OFFICE, "en") == "27 November 2026 08:00 WITA"


def _page(template: str, language: str = "id", **context) -> str:
    response = _render(Page(template, 200, "Rujukan", context), language)  # type: ignore[arg-type]
    return response.text


def test_the_one_inline_style_is_the_one_the_csp_allows_by_hash():
    html = _page("error.html", message="m", detail=None)
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert style == CSS
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in SECURITY_HEADERS["Content-Security-Policy"]
    assert "<script" not in html


def test_values_are_escaped_on_the_page():
    view = m.ReferralPage(case_id="C-1", referral_id="C-1-R002", office="dinsos_banjar", service="shelter",
                          status="sent", shareable=True)
    html = _page("referral.html", view=view, service="s", status="st", due=None,
                 fields=[("Nama lengkap", "<script>alert(1)</script>")], withheld=None, answers=[],
                 form={"session": "1.n", "csrf": "c"}, action="/r/t", message=None, next_step=None)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_five_wrong_passcodes_lock_a_token_for_the_lock_time_then_it_counts_afresh():
    locks = PasscodeLocks(lock_for=timedelta(minutes=15))
    for tries_left in (4, 3, 2, 1):
        assert locks.wrong("t", NOW) == (tries_left, None)
        assert locks.locked_until("t", NOW) is None
    assert locks.wrong("t", NOW) == (0, NOW + timedelta(minutes=15))
    assert locks.locked_until("t", NOW + timedelta(minutes=14)) == NOW + timedelta(minutes=15)
    assert locks.locked_until("other", NOW) is None  # per token
    assert locks.locked_until("t", NOW + timedelta(minutes=15)) is None
    assert locks.wrong("t", NOW + timedelta(minutes=16)) == (4, None)


def test_a_right_passcode_clears_the_count():
    locks = PasscodeLocks()
    for _ in range(4):
        locks.wrong("t", NOW)
    locks.right("t")
    assert locks.wrong("t", NOW) == (4, None)


def test_a_form_token_is_bound_to_its_purpose_its_link_and_its_session():
    key = b"k" * 32
    base = _mac(key, "answer", "token", "1.nonce")
    assert base == _mac(key, "answer", "token", "1.nonce")
    assert len({base, _mac(key, "unlock", "token", "1.nonce"), _mac(key, "answer", "token2", "1.nonce"),
                _mac(key, "answer", "token", "2.nonce"), _mac(b"j" * 32, "answer", "token", "1.nonce")}) == 5


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_renders_in_both_languages(language):
    assert set(ENVIRONMENTS[language].list_templates()) >= {"gate.html", "referral.html", "error.html"}


def test_a_mission_abroad_reads_its_countrys_time_and_a_national_office_jakartas():
    from sinergi.agencies import load_registry
    from sinergi.platform.i18n import local_datetime as in_zone
    from sinergi.platform.i18n import office_zone

    offices = load_registry("sandbox").offices
    at = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    assert in_zone(at, office_zone(offices["kbri_kuala_lumpur"]), "id") == "27 November 2026 08.00 MYT"
    assert in_zone(at, office_zone(offices["lpsk"]), "id") == "27 November 2026 07.00 WIB"
    assert in_zone(at, office_zone(offices["dinsos_kalsel"]), "en") == "27 November 2026 08:00 WITA"
