"""Referral-page tokens: what they bind, that they carry nothing personal, and that every forged, garbled,
re-keyed or expired token fails with the one error the page turns into a bare 404."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from sinergi.platform.codec import ensure_keys_file
from sinergi.platform.config import CodecSettings
from sinergi.platform.referral_tokens import InvalidReferralToken, ReferralTokens
from sinergi.testing.cases import SAMPLE_DOB, SAMPLE_NAME, SAMPLE_PHONE

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
MONTH = timedelta(days=30)
KEYS = {"k1": os.urandom(32), "k2": os.urandom(32)}


def _tokens(current: str = "k1", keys: dict[str, bytes] | None = None) -> ReferralTokens:
    return ReferralTokens(keys or KEYS, current)


def _issue(tokens: ReferralTokens | None = None, **overrides) -> str:
    claims = {"office": "dinsos_banjar", "referral_id": "KALSEL-2026-000042-R003", "case_id": "KALSEL-2026-000042",
              "now": NOW, **overrides}
    return (tokens or _tokens()).issue(**claims)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _payload(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _with_claim(token: str, field: str, value) -> str:
    """The token with one claim changed and the original MAC kept: what a forger can do without the key."""
    claims = _payload(token)
    claims[field] = value
    return f"{_b64(json.dumps(claims, separators=(',', ':')).encode())}.{token.split('.')[1]}"


def test_a_token_verifies_to_the_office_referral_and_case_it_was_issued_for() -> None:
    verified = _tokens().verify(_issue(), now=NOW + timedelta(days=3), max_age=MONTH)
    assert (verified.office, verified.referral_id, verified.case_id, verified.issued_at, verified.key_id) == (
        "dinsos_banjar", "KALSEL-2026-000042-R003", "KALSEL-2026-000042", NOW, "k1")


def test_a_token_is_url_safe_and_carries_ids_only() -> None:
    token = _issue()
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert set(_payload(token)) == {"v", "k", "o", "r", "c", "t"}
    for personal in (SAMPLE_NAME, SAMPLE_PHONE, SAMPLE_DOB):
        assert personal not in json.dumps(_payload(token))


@pytest.mark.parametrize(("field", "value"), [
    ("o", "uptd_ppa_kalsel"), ("r", "KALSEL-2026-000042-R004"), ("c", "KALSEL-2026-000043"),
    ("t", int((NOW + timedelta(days=60)).timestamp())), ("k", "k2"), ("v", 2)])
def test_changing_any_claim_without_the_key_is_refused(field: str, value) -> None:
    with pytest.raises(InvalidReferralToken):
        _tokens().verify(_with_claim(_issue(), field, value), now=NOW, max_age=MONTH)


def test_an_extra_claim_is_refused() -> None:
    with pytest.raises(InvalidReferralToken):
        _tokens().verify(_with_claim(_issue(), "x", "admin"), now=NOW, max_age=MONTH)


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),   # last MAC character
    lambda t: t.split(".")[0] + "." + _b64(b"\0" * 32),  # a MAC of zeros
    lambda t: t.split(".")[0],                           # MAC dropped
    lambda t: t + ".x",                                  # a third part
    lambda t: t.replace(".", "!"),                       # no separator
    lambda t: t[:10] + "!" + t[10:],                     # outside the alphabet (the decoder would skip it)
    lambda t: t + "=",                                   # padding is not part of the form
    lambda t: _b64(b"not json") + "." + t.split(".")[1],
    lambda t: "",
    lambda t: "a" * 2000,
    lambda t: "é." + t.split(".")[1],
])
def test_a_garbled_token_is_refused_with_the_one_error(mangle) -> None:
    with pytest.raises(InvalidReferralToken):
        _tokens().verify(mangle(_issue()), now=NOW, max_age=MONTH)


def test_a_token_signed_with_a_key_we_do_not_hold_is_refused() -> None:
    stranger = ReferralTokens({"k1": os.urandom(32)}, "k1")
    with pytest.raises(InvalidReferralToken, match="bad signature"):
        _tokens().verify(_issue(stranger), now=NOW, max_age=MONTH)


def test_after_rotation_new_tokens_use_the_new_key_and_old_ones_still_verify() -> None:
    old = _issue(_tokens("k1"))
    rotated = _tokens("k2")
    new = _issue(rotated)
    assert _payload(new)["k"] == "k2"
    assert rotated.verify(old, now=NOW, max_age=MONTH).key_id == "k1"
    assert rotated.verify(new, now=NOW, max_age=MONTH).key_id == "k2"


def test_once_the_old_key_is_removed_its_tokens_are_refused() -> None:
    old = _issue(_tokens("k1"))
    with pytest.raises(InvalidReferralToken, match="unknown key id"):
        ReferralTokens({"k2": KEYS["k2"]}, "k2").verify(old, now=NOW, max_age=MONTH)


def test_a_token_older_than_the_maximum_age_is_refused_and_one_just_inside_it_is_not() -> None:
    token = _issue()
    assert _tokens().verify(token, now=NOW + MONTH, max_age=MONTH).issued_at == NOW
    with pytest.raises(InvalidReferralToken, match="expired"):
        _tokens().verify(token, now=NOW + MONTH + timedelta(seconds=1), max_age=MONTH)


def test_a_token_from_the_future_beyond_clock_skew_is_refused() -> None:
    with pytest.raises(InvalidReferralToken, match="future"):
        _tokens().verify(_issue(now=NOW + timedelta(hours=1)), now=NOW, max_age=MONTH)
    assert _tokens().verify(_issue(now=NOW + timedelta(minutes=1)), now=NOW, max_age=MONTH)


def test_the_mac_key_is_derived_not_the_codec_key_itself() -> None:
    import hashlib
    import hmac

    token = _issue()
    payload, mac = token.split(".")
    raw = hmac.new(KEYS["k1"], payload.encode(), hashlib.sha256).digest()
    assert _b64(raw) != mac


def test_tokens_are_built_from_the_codec_settings(tmp_path) -> None:
    keys_file = tmp_path / "keys.json"
    ensure_keys_file(keys_file, "k7")
    tokens = ReferralTokens.from_settings(CodecSettings(key_id="k7", keys_file=keys_file))
    assert tokens.verify(_issue(tokens), now=NOW, max_age=MONTH).key_id == "k7"


def test_a_second_spelling_of_the_same_signature_is_refused() -> None:
    # base64's last character of a 32-byte MAC carries two unused bits: flipping one decodes to the same
    # bytes. Only the spelling sinergi writes is a token (a review found a test flaky on exactly this).
    token = _issue()
    payload, mac = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = mac[:-1] + alphabet[alphabet.index(mac[-1]) ^ 1]
    assert _b64(base64.urlsafe_b64decode(twin + "=")) == mac  # the same bytes...
    with pytest.raises(InvalidReferralToken):
        _tokens().verify(f"{payload}.{twin}", now=NOW, max_age=MONTH)  # ...yet not ours


def test_without_a_maximum_age_a_token_of_any_age_is_ours_if_intact() -> None:
    # The page decides a link's life from its referral (open, or closed less than 30 days ago), not its age.
    assert _tokens().verify(_issue(), now=NOW + timedelta(days=3 * 365), max_age=None).issued_at == NOW
    with pytest.raises(InvalidReferralToken):
        _tokens().verify(_issue()[:-2] + "xx", now=NOW + timedelta(days=3 * 365), max_age=None)
