"""The referral page (`/r/{token}`) on the real gateway on loopback, in front of the real dev server and workers.

Each case is the default test case (a PMI back from Malaysia), its consent recorded by the lead office, so its
referral to KBRI Kuala Lumpur is sent; KBRI plays the office that answers from a browser. The forms are posted
as a browser posts them (urlencoded, the hidden fields the page rendered), and every page's headers are checked.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from gateway_kit import LEAD, GatewayKit, dev_secrets, envelope, resources_for, serve_app

from sinergi.cases import NotAParty
from sinergi.domain.sharing import payload_for
from sinergi.gateway.referral_page import CSS, SECURITY_HEADERS, PasscodeLocks, ReferralPages, passcode_from_env
from sinergi.gateway.resources import TemporalLink
from sinergi.platform.referral_tokens import ReferralTokens
from sinergi.testing.cases import SAMPLE_DOB, SAMPLE_NAME, SAMPLE_PHONE, TEST_KEY, TEST_KEY_ID, harness, intake
from sinergi.workflows import messages as m

OFFICE = "kbri_kuala_lumpur"
PASSCODE = "kode-rahasia-4821"
LOCK_FOR = timedelta(seconds=2)
PERSONAL = (SAMPLE_NAME, SAMPLE_PHONE, SAMPLE_DOB)


class Forms(HTMLParser):
    """The forms of a page: action, and every input's name and value (hidden or not)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": attrs.get("method"), "fields": {}})
        elif tag in ("input", "textarea", "select") and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")

    def answer(self, name: str) -> dict:
        return next(f for f in self.forms if f["fields"].get("answer") == name)

    def answers(self) -> list[str]:
        return [f["fields"]["answer"] for f in self.forms if "answer" in f["fields"]]


@pytest.fixture(scope="module")
async def kit(dev_env, tmp_path_factory):
    """`gateway_kit.gateway_for`, with the page's parts in the gateway's resources (`kit.pages`, changeable)."""
    secrets_file, secrets = dev_secrets(tmp_path_factory.mktemp("referral-page"))
    async with harness(dev_env.client) as h:
        office = h.registry.offices[OFFICE]
        offices = {**h.registry.offices, OFFICE: office.model_copy(
            update={"adapter": "email", "settings": {**office.settings, "passcode_env": "TEST_KBRI_PASSCODE"}})}
        pages = ReferralPages(
            registry=h.registry.model_copy(update={"offices": offices}),
            tokens=ReferralTokens({TEST_KEY_ID: TEST_KEY}, TEST_KEY_ID),
            passcode_of=passcode_from_env({"TEST_KBRI_PASSCODE": PASSCODE}),
            form_key=b"test-form-key-0123456789abcdef01", locks=PasscodeLocks(lock_for=LOCK_FOR))
        resources = dataclasses.replace(resources_for(secrets_file, TemporalLink.to(h.cases),
                                                      dev_env.client.namespace), referral_pages=pages)
        async with serve_app(resources) as (client, address):
            kit = GatewayKit(client, address, h, secrets)
            kit.pages = pages
            yield kit


@pytest.fixture
async def referral(kit):
    """A fresh case whose referral to KBRI was delivered: (case id, referral id, the page's link token)."""
    case_id = await kit.open_case()
    assert (await kit.post(LEAD, envelope(case_id, "consent.recorded", {"scope": "services"}))).status == 202
    await kit.settle(case_id)
    status = await kit.harness.cases.status(case_id)
    referral_id = next(r.referral_id for r in status.referrals if r.agency == OFFICE)
    token = kit.pages.tokens.issue(office=OFFICE, referral_id=referral_id, case_id=case_id, now=datetime.now(UTC))
    return case_id, referral_id, token


async def page(response) -> str:
    """The page's HTML, after checking the headers every referral page carries."""
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.content_type == "text/html"
    html = await response.text()
    assert "<script" not in html.lower()
    return html


async def gate(kit, token: str) -> tuple[int, str, Forms]:
    response = await kit.client.get(f"/r/{token}")
    html = await page(response)
    return response.status, html, Forms(html)


async def unlock(kit, token: str, passcode: str = PASSCODE, **override) -> tuple[int, str, Forms]:
    _, _, forms = await gate(kit, token)
    fields = {**forms.forms[0]["fields"], "passcode": passcode, **override}
    response = await kit.client.post(f"/r/{token}/unlock", data=fields)
    html = await page(response)
    return response.status, html, Forms(html)


async def give(kit, token: str, forms: Forms, name: str, text: str | None = None, **override):
    fields = {**forms.answer(name)["fields"], **({"text": text} if text is not None else {}), **override}
    response = await kit.client.post(f"/r/{token}", data=fields)
    html = await page(response)
    return response.status, html, Forms(html)


async def referral_status(kit, case_id: str, referral_id: str) -> str:
    status = await kit.harness.cases.status(case_id)
    return next(r.status for r in status.referrals if r.referral_id == referral_id)


def assert_nothing_personal(html: str) -> None:
    for value in PERSONAL:
        assert value not in html


# --- GET: nothing personal, nothing changed ---------------------------------------------------------------


async def test_get_shows_ids_and_a_passcode_form_but_no_personal_data_and_changes_nothing(kit, referral):
    case_id, referral_id, token = referral
    before = await kit.history_length(case_id)
    timeline = await kit.harness.cases.timeline(case_id)
    for _ in range(3):  # a mail scanner, a preview, the officer
        status, html, forms = await gate(kit, token)
        assert status == 200
        assert_nothing_personal(html)
        assert referral_id in html and case_id in html
        assert "Kode akses" in html and "Tenggat" in html  # the office's language: id
        assert [f["action"] for f in forms.forms] == [f"/r/{token}/unlock"]
        assert set(forms.forms[0]["fields"]) == {"session", "csrf", "passcode"}
    assert await kit.history_length(case_id) == before
    assert await kit.harness.cases.timeline(case_id) == timeline


# --- unlock ---------------------------------------------------------------------------------------------------


async def test_the_right_passcode_shows_the_agreed_fields_and_records_the_unlock_in_the_case(kit, referral):
    case_id, referral_id, token = referral
    status, html, forms = await unlock(kit, token)
    assert status == 200
    assert SAMPLE_NAME in html and SAMPLE_PHONE in html
    # Only what KBRI's agreement lists: the exploitation and means of control are not in its `receives`.
    assert "forced_labour" not in html and "withholds_documents" not in html
    assert forms.answers() == ["acknowledge", "accept", "decline"]
    _, shown = payload_for(intake(), kit.pages.registry.offices[OFFICE])
    await kit.settle(case_id)
    timeline = await kit.harness.cases.timeline(case_id)
    notes = [e.text for e in timeline.entries if "referral page" in e.text]
    assert notes == [f"referral {referral_id} opened on the referral page by {OFFICE}: {len(shown)} fields"]
    deliveries = (await kit.harness.cases.status(case_id)).deliveries
    assert [(d.office, d.purpose, d.ref, d.fields) for d in deliveries if d.purpose == "page"] == [
        (OFFICE, "page", referral_id, shown)]


async def test_five_wrong_passcodes_lock_the_link_even_for_the_right_one_until_the_lock_ends(kit, referral):
    case_id, _, token = referral
    for attempt in range(1, 6):
        status, html, _ = await unlock(kit, token, passcode=f"wrong-{attempt}")
        assert status == (403 if attempt < 5 else 429)  # the fifth locks the link
        assert_nothing_personal(html)
    assert "dikunci sampai" in html
    status, html, forms = await gate(kit, token)
    assert status == 429 and forms.forms == [] and "dikunci sampai" in html
    # The right code while locked (its form from before the lock): refused, nothing shown, nothing recorded.
    response = await kit.client.post(f"/r/{token}/unlock", data={**_unlock_form(kit, token), "passcode": PASSCODE})
    html = await page(response)
    assert response.status == 429
    assert_nothing_personal(html)
    await asyncio.sleep(LOCK_FOR.total_seconds() + 0.2)
    status, html, _ = await unlock(kit, token)
    assert status == 200 and SAMPLE_NAME in html
    timeline = await kit.harness.cases.timeline(case_id)
    assert len([e for e in timeline.entries if "referral page" in e.text]) == 1


def _unlock_form(kit, token: str) -> dict[str, str]:
    # What a form rendered before the lock carries: a valid session and CSRF token for this link.
    from sinergi.gateway.referral_page import _mac

    session = f"{int(datetime.now(UTC).timestamp()) + 600}.nonce"
    return {"session": session, "csrf": _mac(kit.pages.form_key, "unlock", token, session)}


# --- answers --------------------------------------------------------------------------------------------------


async def test_acknowledge_then_accept_moves_the_referral_and_a_double_submit_is_a_duplicate(kit, referral):
    case_id, referral_id, token = referral
    _, _, forms = await unlock(kit, token)
    status, html, after_ack = await give(kit, token, forms, "acknowledge")
    assert status == 200 and "Jawaban Anda telah dicatat" in html
    assert await referral_status(kit, case_id, referral_id) == "acknowledged"
    assert after_ack.answers() == ["accept", "decline"]  # what comes next, without entering the code again
    assert_nothing_personal(html)
    status, html, _ = await give(kit, token, after_ack, "accept")
    assert status == 200 and "Langkah berikutnya" in html
    assert await referral_status(kit, case_id, referral_id) == "accepted"
    settled = await kit.settle(case_id)
    # The same form again (a double click, a reload that re-posts): one event, answered as a duplicate.
    status, html, _ = await give(kit, token, after_ack, "accept")
    assert status == 200 and "sudah tercatat sebelumnya" in html
    assert await kit.history_length(case_id) == settled
    timeline = await kit.harness.cases.timeline(case_id)
    assert sum("referral.accepted" in e.text for e in timeline.entries) == 1


async def test_a_decline_needs_a_reason_and_with_one_re_routes_the_referral(kit, referral):
    case_id, referral_id, token = referral
    _, _, forms = await unlock(kit, token)
    before = await kit.settle(case_id)
    assert forms.answer("decline")["fields"]["reason_code"] == ""  # a select: nothing chosen yet
    status, html, _ = await give(kit, token, forms, "decline", text="   ", reason_code="no_capacity")
    assert status == 400 and "Alasan wajib diisi" in html
    status, html, _ = await give(kit, token, forms, "decline", text="Tidak ada petugas di lokasi")
    assert status == 400 and "Pilih jenis alasan" in html
    status, html, _ = await give(kit, token, forms, "decline", text="Tidak ada petugas di lokasi",
                                 reason_code="because")
    assert status == 400 and "Pilih jenis alasan" in html
    assert await kit.history_length(case_id) == before
    status, html, _ = await give(kit, token, forms, "decline", text="Tidak ada petugas di lokasi",
                                 reason_code="no_capacity")
    assert status == 200
    assert await referral_status(kit, case_id, referral_id) == "declined"


async def test_an_answer_the_case_does_not_accept_now_is_a_409_page_that_says_why(kit, referral):
    case_id, _, token = referral
    _, _, forms = await unlock(kit, token)
    before = await kit.settle(case_id)
    # "complete" is offered only once accepted; a hand-made post of it while the referral is just sent:
    fields = {**forms.answer("accept")["fields"], "answer": "complete", "text": "selesai"}
    response = await kit.client.post(f"/r/{token}", data=fields)
    html = await page(response)
    assert response.status == 409 and "tidak dapat diberikan sekarang" in html
    assert await kit.history_length(case_id) == before


async def test_an_answer_outside_the_office_agreement_is_a_clear_403_page_not_a_500(kit, referral):
    case_id, _, token = referral
    _, _, forms = await unlock(kit, token)
    before = await kit.settle(case_id)
    registry = kit.pages.registry
    office = registry.offices[OFFICE]
    narrowed = office.model_copy(update={"may_send": [p for p in office.may_send if p != "referral.*"]})
    kit.pages.registry = registry.model_copy(update={"offices": {**registry.offices, OFFICE: narrowed}})
    try:
        status, html, after = await give(kit, token, forms, "accept")
    finally:
        kit.pages.registry = registry
    assert status == 403 and "tidak berwenang" in html
    assert after.answers() == []  # and it is offered no answer it may not give
    assert await kit.history_length(case_id) == before


# --- CSRF, tokens ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("csrf", [None, "", "forged-csrf-value", "x" * 43])
async def test_a_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(kit, referral, csrf):
    case_id, referral_id, token = referral
    _, _, forms = await unlock(kit, token)
    before = await kit.settle(case_id)
    timeline = await kit.harness.cases.timeline(case_id)
    fields = dict(forms.answer("accept")["fields"])
    fields.pop("csrf")
    if csrf is not None:
        fields["csrf"] = csrf
    response = await kit.client.post(f"/r/{token}", data=fields)
    assert response.status == 403 and "Formulir" in await page(response)
    # The unlock form too: the right passcode without a valid CSRF token opens nothing.
    _, _, gate_forms = await gate(kit, token)
    unlock_fields = {**gate_forms.forms[0]["fields"], "passcode": PASSCODE}
    unlock_fields.pop("csrf")
    if csrf is not None:
        unlock_fields["csrf"] = csrf
    response = await kit.client.post(f"/r/{token}/unlock", data=unlock_fields)
    html = await page(response)
    assert response.status == 403
    assert_nothing_personal(html)
    assert await referral_status(kit, case_id, referral_id) == "sent"
    assert await kit.history_length(case_id) == before
    assert await kit.harness.cases.timeline(case_id) == timeline


async def test_a_form_of_another_link_is_refused(kit, referral):
    case_id, referral_id, token = referral
    other = kit.pages.tokens.issue(office=OFFICE, referral_id=referral_id, case_id=case_id,
                                   now=datetime.now(UTC) - timedelta(seconds=5))
    _, _, forms = await unlock(kit, other)
    response = await kit.client.post(f"/r/{token}", data=forms.answer("accept")["fields"])
    assert response.status == 403
    await page(response)
    assert await referral_status(kit, case_id, referral_id) == "sent"


async def test_forged_garbled_expired_and_misdirected_tokens_are_the_same_bare_404(kit, referral):
    case_id, referral_id, token = referral
    payload, mac = token.split(".")
    forger = ReferralTokens({TEST_KEY_ID: b"k" * 32}, TEST_KEY_ID)
    bad = [
        "nonsense", token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"), f"{payload}.{mac[::-1]}",
        forger.issue(office=OFFICE, referral_id=referral_id, case_id=case_id, now=datetime.now(UTC)),
        # Signed, but for an office the referral was not sent to, a referral the case lacks, an unknown office:
        kit.pages.tokens.issue(office="polda_kalsel", referral_id=referral_id, case_id=case_id, now=datetime.now(UTC)),
        kit.pages.tokens.issue(office=OFFICE, referral_id=f"{case_id}-R999", case_id=case_id, now=datetime.now(UTC)),
        kit.pages.tokens.issue(office="no_such_office", referral_id=referral_id, case_id=case_id,
                               now=datetime.now(UTC)),
        kit.pages.tokens.issue(office=OFFICE, referral_id=referral_id, case_id="T-NOSUCHCASE", now=datetime.now(UTC)),
    ]
    bodies = set()
    for candidate in bad:
        for method, path in (("GET", f"/r/{candidate}"), ("POST", f"/r/{candidate}/unlock"),
                             ("POST", f"/r/{candidate}")):
            response = await kit.client.request(method, path, data={"passcode": PASSCODE})
            html = await page(response)
            assert response.status == 404, (candidate, method, path)
            bodies.add(re.sub(r"\s+", " ", html))
    assert len(bodies) == 1  # no detail tells one cause from another
    assert "Halaman tidak ditemukan" in bodies.pop()


async def test_a_link_works_as_long_as_its_referral_is_open_however_long(kit, referral):
    case_id, referral_id, _ = referral
    old_link = kit.pages.tokens.issue(office=OFFICE, referral_id=referral_id, case_id=case_id,
                                      now=datetime.now(UTC) - timedelta(days=800))  # followed up for two years
    assert (await gate(kit, old_link))[0] == 200
    status, _, forms = await unlock(kit, old_link)
    assert status == 200 and "acknowledge" in forms.answers()


async def test_a_link_stops_working_30_days_after_its_referral_closed(kit, referral):
    case_id, referral_id, token = referral
    _, _, forms = await unlock(kit, token)
    _, _, accepted = await give(kit, token, forms, "accept")
    status, _, _ = await give(kit, token, accepted, "complete", text="Layanan selesai diberikan")
    assert status == 200
    assert await referral_status(kit, case_id, referral_id) == "completed"
    view = await kit.harness.cases.referral_page(case_id, m.ReferralPageQuestion(
        referral_id=referral_id, office=kit.pages.registry.offices[OFFICE]))
    assert view.status == "completed" and view.closed_at is not None
    assert datetime.now(UTC) - view.closed_at < timedelta(minutes=1)
    assert not view.shareable and view.fields == {} and view.field_names == []
    status, html, _ = await gate(kit, token)
    assert status == 200  # closed today: the page still says what happened
    # Counted from the close, not from the link's issue: a link sent 60 days ago still opens today.
    old_link = kit.pages.tokens.issue(office=OFFICE, referral_id=referral_id, case_id=case_id,
                                      now=datetime.now(UTC) - timedelta(days=60))
    assert (await gate(kit, old_link))[0] == 200
    status, html, _ = await unlock(kit, token)
    assert status == 200 and "sudah ditutup" in html
    assert_nothing_personal(html)
    real_now = kit.pages.now
    kit.pages.now = lambda: datetime.now(UTC) + timedelta(days=31)
    try:
        status, _, _ = await gate(kit, token)
    finally:
        kit.pages.now = real_now
    assert status == 404


# --- consent ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("withdrawal", [{"scope": "data_sharing"}, {"scope": "services", "agency": OFFICE}])
async def test_after_consent_is_withdrawn_the_page_shows_no_personal_data_and_says_why(kit, referral, withdrawal):
    case_id, referral_id, token = referral
    assert (await kit.post(LEAD, envelope(case_id, "consent.withdrawn", withdrawal))).status == 202
    await kit.settle(case_id)
    status, html, forms = await unlock(kit, token)
    assert status == 200
    assert_nothing_personal(html)
    assert "mencabut persetujuan" in html
    assert forms.answers() == []
    timeline = await kit.harness.cases.timeline(case_id)
    assert not [e for e in timeline.entries if "referral page" in e.text]  # nothing shown, nothing recorded


# --- the case's side ------------------------------------------------------------------------------------------


async def test_the_case_refuses_to_record_an_unlock_for_an_office_its_referral_was_not_sent_to(kit, referral):
    case_id, referral_id, _ = referral
    before = await kit.settle(case_id)
    with pytest.raises(NotAParty):
        await kit.harness.cases.record_page_unlock(case_id, m.PageUnlock(
            referral_id=referral_id, office="polda_kalsel", fields=["person.full_name"], at=datetime.now(UTC)))
    with pytest.raises(NotAParty):  # field names only, and only the intake's
        await kit.harness.cases.record_page_unlock(case_id, m.PageUnlock(
            referral_id=referral_id, office=OFFICE, fields=[SAMPLE_NAME], at=datetime.now(UTC)))
    assert await kit.history_length(case_id) == before


async def test_an_office_in_english_reads_the_page_in_english(kit, referral):
    _, _, token = referral
    registry = kit.pages.registry
    english = registry.offices[OFFICE].model_copy(update={"language": "en"})
    kit.pages.registry = registry.model_copy(update={"offices": {**registry.offices, OFFICE: english}})
    try:
        _, html, _ = await gate(kit, token)
        assert "Access code" in html and "Due" in html and "Kode akses" not in html
        _, html, _ = await unlock(kit, token, passcode="wrong")
        assert "Wrong access code" in html
    finally:
        kit.pages.registry = registry


async def test_other_methods_and_oversized_forms_still_carry_the_page_headers(kit, referral):
    _, _, token = referral
    response = await kit.client.put(f"/r/{token}")
    assert response.status == 405
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value
    assert CSS  # the one inline style, allowed by its hash (checked in tests/unit/test_referral_page_parts.py)


async def test_rotating_the_passcode_ends_every_session_opened_with_the_old_one(kit, referral):
    # Review: one unlock kept answering for ever (each answer page handed out a fresh session), and a passcode
    # rotation did not stop it. Now an answer form is bound to the passcode it was unlocked with.
    case_id, referral_id, token = referral
    _, _, forms = await unlock(kit, token)
    rotated = passcode_from_env({"TEST_KBRI_PASSCODE": "ROTATED-9Q4K"})
    original = kit.pages.passcode_of
    object.__setattr__(kit.pages, "passcode_of", rotated)
    try:
        status, html, _ = await give(kit, token, forms, "acknowledge")
        assert status == 403 and "<form" not in html.split("<h2")[0]
        assert await referral_status(kit, case_id, referral_id) == "sent"
    finally:
        object.__setattr__(kit.pages, "passcode_of", original)


async def test_answering_never_extends_the_session_its_unlock_began(kit, referral):
    case_id, referral_id, token = referral
    _, _, forms = await unlock(kit, token)
    session = forms.answer("acknowledge")["fields"]["session"]
    _, _, after = await give(kit, token, forms, "acknowledge")
    assert after.answer("accept")["fields"]["session"] == session  # the same session, the same expiry


async def test_a_locked_link_asks_the_case_nothing(kit, referral):
    # Review: every guess on a locked link still ran a query on the case (reads racing its work are what
    # bench/RESULTS.md "Queries and updates" warns of). Now a locked link answers without asking the case.
    case_id, referral_id, token = referral
    for _ in range(5):
        await unlock(kit, token, passcode="wrong")
    cases = kit.harness.cases
    asked = []
    original = cases.referral_page

    async def counting(*args, **kwargs):
        asked.append(args)
        return await original(*args, **kwargs)
    cases.referral_page = counting
    try:
        for _ in range(10):
            response = await kit.client.post(f"/r/{token}/unlock", data={"passcode": PASSCODE})
            assert response.status == 429
            await page(response)
    finally:
        del cases.referral_page
        kit.pages.locks.right(token)
    assert asked == []


async def test_an_office_that_now_answers_through_its_own_system_has_no_page(kit, referral):
    # Review: an office moved from e-mail to a webhook kept working page links.
    case_id, referral_id, token = referral
    offices = kit.pages.registry.offices
    moved = offices[OFFICE].model_copy(update={"adapter": "webhook"})
    object.__setattr__(kit.pages, "registry", kit.pages.registry.model_copy(
        update={"offices": {**offices, OFFICE: moved}}))
    try:
        status, html, _ = await gate(kit, token)
        assert status == 404
    finally:
        object.__setattr__(kit.pages, "registry", kit.pages.registry.model_copy(update={"offices": offices}))


async def test_a_chunked_form_over_the_limit_is_refused_as_it_is_read(kit, referral):
    # Review: a chunked body has no Content-Length, so the form's 8 KB cap was never checked.
    case_id, referral_id, token = referral

    async def chunks():
        for _ in range(40):
            yield b"passcode=" + b"x" * 1000 + b"&"
    response = await kit.client.post(f"/r/{token}/unlock", data=chunks(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 413
    await page(response)


async def test_a_link_opened_too_often_asks_the_case_no_more_within_the_minute(kit, referral):
    # Review: every GET of a link (mailed, so public: scanners, a forwarded mail) was a query on the case.
    case_id, referral_id, token = referral
    cases, asked, original = kit.harness.cases, [], kit.harness.cases.referral_page

    async def counting(*args, **kwargs):
        asked.append(args)
        return await original(*args, **kwargs)
    cases.referral_page = counting
    budget = kit.pages.reads.per_minute
    try:
        statuses = [(await gate(kit, token))[0] for _ in range(budget + 5)]
    finally:
        del cases.referral_page
        kit.pages.reads._reads.pop(token, None)
    assert statuses[:budget] == [200] * budget and set(statuses[budget:]) == {429}
    assert len(asked) == budget
