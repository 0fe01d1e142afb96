"""Referral-page tokens: the secret part of the `{public_url}/r/{token}` link an e-mail office receives.

A token names one office, one referral and its case, and when it was issued; nothing personal. It is
`<payload>.<mac>`, both URL-safe base64 without padding: the payload is compact JSON
`{"v": 1, "k": key id, "o": office, "r": referral id, "c": case id, "t": issued at (Unix seconds)}` and the mac is
HMAC-SHA256 over the payload's base64 text, keyed with a key derived (HKDF) from the `[codec]` key named `k`.

Why here, in `platform/`: the worker's `email` adapter issues tokens and the gateway's referral page checks them;
both layers sit above `platform/`, so neither imports the other. Why the codec keys: they are already the
deployment's rotated secrets (a new `key_id` signs new tokens, old ids keep verifying until removed from the keys
file), and HKDF with its own label keeps a token's MAC key unrelated to the payload encryption key.

Expiry is the page's decision (30 days after the referral closes, SPEC): a token only stores its issue time, and
`verify` takes `now` and the greatest age the caller allows. Every failure is one error, `InvalidReferralToken`,
whose message is for logs only: the page shows a bare 404 whatever went wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sinergi.platform.config import CodecSettings

VERSION = 1
# Domain separation: the same codec key encrypts payloads; this label makes the MAC key a different key.
HKDF_INFO = b"sinergi referral-page token v1"
# A link is pasted, forwarded and typed from paper: long enough for ids, short enough to refuse garbage cheaply.
MAX_TOKEN_CHARS = 512
# Clocks of the worker (which issues) and the gateway (which verifies) may differ by a little.
CLOCK_SKEW = timedelta(minutes=5)
FIELDS = ("v", "k", "o", "r", "c", "t")
# Python's base64 decoder skips characters outside the alphabet; a garbled token must fail, not decode anyway.
_B64_TEXT = re.compile(r"[A-Za-z0-9_-]+")
# Year 5138: beyond it `datetime` overflows; no honest token is issued that late.
_MAX_TIMESTAMP = 10**11


class InvalidReferralToken(Exception):
    """Forged, garbled, unknown-key or expired: the caller answers all of them the same way."""


@dataclass(frozen=True)
class ReferralToken:
    """What a verified token vouches for."""

    office: str
    referral_id: str
    case_id: str
    issued_at: datetime
    key_id: str


class ReferralTokens:
    """Issues tokens with the current codec key id; verifies tokens of any key id still in the keys file."""

    def __init__(self, keys: Mapping[str, bytes], current_key_id: str) -> None:
        if current_key_id not in keys:
            raise ValueError(f"current key id {current_key_id!r} is not among the loaded keys")
        self._mac_keys = {key_id: _derive(key) for key_id, key in keys.items()}
        self.current_key_id = current_key_id

    @classmethod
    def from_settings(cls, settings: CodecSettings) -> ReferralTokens:
        from sinergi.platform.codec import codec_from_settings, load_keys  # the codec pulls in temporalio

        codec_from_settings(settings)  # the same checks and messages as the codec: file, key id, key sizes
        return cls(load_keys(settings.keys_file), settings.key_id)

    def issue(self, *, office: str, referral_id: str, case_id: str, now: datetime) -> str:
        claims = {"v": VERSION, "k": self.current_key_id, "o": office, "r": referral_id, "c": case_id,
                  "t": int(now.timestamp())}
        payload = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{payload}.{_b64(self._mac(self.current_key_id, payload))}"

    def verify(self, token: str, *, now: datetime, max_age: timedelta | None) -> ReferralToken:
        """The token's claims, if it is ours, intact, and issued no longer than `max_age` before `now` (None: any
        time before)."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            raise InvalidReferralToken("not a referral token")
        payload, mac = token.split(".")
        claims = _claims(payload)
        key_id = claims["k"]
        if key_id not in self._mac_keys:
            raise InvalidReferralToken(f"unknown key id {key_id!r}")
        signature = _unb64(mac)
        # One spelling per token: base64's last character carries unused bits, so two spellings could decode
        # alike; only the one we write is ours.
        if _b64(signature) != mac:
            raise InvalidReferralToken("not a referral token")
        # Constant time: a byte-by-byte comparison would tell a forger how much of the MAC is right.
        if not hmac.compare_digest(signature, self._mac(key_id, payload)):
            raise InvalidReferralToken("bad signature")
        issued = datetime.fromtimestamp(claims["t"], UTC)
        if issued - now > CLOCK_SKEW:
            raise InvalidReferralToken("issued in the future")
        if max_age is not None and now - issued > max_age:
            raise InvalidReferralToken("expired")
        return ReferralToken(office=claims["o"], referral_id=claims["r"], case_id=claims["c"], issued_at=issued,
                             key_id=key_id)

    def _mac(self, key_id: str, payload: str) -> bytes:
        return hmac.new(self._mac_keys[key_id], payload.encode("ascii"), hashlib.sha256).digest()


def _derive(key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(key)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not _B64_TEXT.fullmatch(text):
        raise InvalidReferralToken("not URL-safe base64")
    try:
        return base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise InvalidReferralToken("not base64") from None


def _claims(payload: str) -> dict:
    # Parsed before the MAC check only to learn the key id; nothing in it is trusted until the MAC holds.
    try:
        claims = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError):
        raise InvalidReferralToken("payload is not JSON") from None
    if not isinstance(claims, dict) or set(claims) != set(FIELDS) or claims["v"] != VERSION:
        raise InvalidReferralToken("unexpected claims")
    if not all(isinstance(claims[f], str) and claims[f] for f in ("k", "o", "r", "c")):
        raise InvalidReferralToken("unexpected claims")
    if not isinstance(claims["t"], int) or isinstance(claims["t"], bool) or not 0 <= claims["t"] < _MAX_TIMESTAMP:
        raise InvalidReferralToken("unexpected claims")
    return claims
