"""Issue 24 item 3: the gateway accepts the identity provider's access tokens, and nothing that merely looks like one.

A real JWKS served over HTTP on loopback (an aiohttp server on an ephemeral port) that the test can rotate, break
and count requests to; tokens signed with RSA keys generated here. The verifier's cache clock is a fake one the
tests advance, so key rotation and cache expiry take no wall time; `exp`/`nbf` use real time.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from structlog.testing import capture_logs

from sinergi.gateway.oidc import InvalidToken, OidcVerifier
from sinergi.gateway.principals import ROLES, Principal, may_see_personal
from sinergi.platform.config import AuthSettings

ISSUER = "https://idp.test/realms/sinergi"
AUDIENCE = "sinergi-gateway"
CACHE_SECONDS = 300.0

_KEYS = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]
KEY_A, KEY_B, STRANGER = _KEYS


def jwk(private_key: rsa.RSAPrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    return {**RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True), "kid": kid, "use": "sig", **extra}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "f3a1c2d4-0000-4000-8000-000000000001", "iat": now,
            "exp": now + 300, "preferred_username": "siti"}
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def token(key: rsa.RSAPrivateKey = KEY_A, kid: str | None = "key-a", alg: str = "RS256", **claim_overrides: Any) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(**claim_overrides), key, algorithm=alg, headers=headers)


@dataclass
class Idp:
    """The identity provider's JWKS endpoint: what it publishes, whether it answers, and how often it was asked."""

    url: str
    keys: list[dict[str, Any]] = field(default_factory=lambda: [jwk(KEY_A, "key-a")])
    status: int = 200
    requests: int = 0


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def idp() -> AsyncIterator[Idp]:
    state = Idp(url="")

    async def jwks(request: web.Request) -> web.Response:
        state.requests += 1
        if state.status != 200:
            return web.Response(status=state.status, text="down for maintenance")
        return web.json_response({"keys": state.keys})

    app = web.Application()
    app.router.add_get("/certs", jwks)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.url = f"http://127.0.0.1:{port}/certs"
    yield state
    await runner.cleanup()


def settings(jwks_url: str, **overrides: Any) -> AuthSettings:
    return AuthSettings(issuer=ISSUER, audience=AUDIENCE, jwks_url=jwks_url, jwks_cache_seconds=CACHE_SECONDS,
                        **overrides)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(idp: Idp, clock: Clock) -> OidcVerifier:
    return OidcVerifier(settings(idp.url), clock=clock, fetch_timeout=2.0)


async def refused(verifier: OidcVerifier, value: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        await verifier.verify(value)
    assert str(caught.value) == caught.value.reason  # the message is the code: nothing from the token
    return caught.value.reason


# --- principals ------------------------------------------------------------------------------------------------


def test_roles_and_who_sees_personal_fields() -> None:
    assert ROLES == ("caseworker", "supervisor", "engineer")
    assert may_see_personal("caseworker") and may_see_personal("supervisor")
    assert not may_see_personal("engineer") and not may_see_personal("admin")


# --- valid tokens ----------------------------------------------------------------------------------------------


async def test_caseworker_token(verifier: OidcVerifier, idp: Idp) -> None:
    principal = await verifier.verify(token(sinergi_role="caseworker"))
    assert principal == Principal(name="siti", role="caseworker", via="oidc")
    await verifier.verify(token(sinergi_role="caseworker"))
    assert idp.requests == 1  # the JWKS is cached


async def test_supervisor_wins_over_caseworker(verifier: OidcVerifier) -> None:
    assert (await verifier.verify(token(sinergi_role="supervisor"))).role == "supervisor"
    both = await verifier.verify(token(sinergi_role=["caseworker", "supervisor", "x"]))
    assert both.role == "supervisor"
    assert (await verifier.verify(token(sinergi_role=["caseworker", {"odd": 1}]))).role == "caseworker"


@pytest.mark.parametrize("role", [None, "admin", "Supervisor", ["engineer"], [], 7, {"role": "supervisor"}])
async def test_missing_or_unknown_role_is_engineer(verifier: OidcVerifier, role: Any) -> None:
    principal = await verifier.verify(token(sinergi_role=role))
    assert principal.role == "engineer"
    assert not may_see_personal(principal.role)


async def test_name_falls_back_to_sub(verifier: OidcVerifier) -> None:
    assert (await verifier.verify(token(preferred_username=None))).name == claims()["sub"]
    assert (await verifier.verify(token(preferred_username="bad\nname"))).name == claims()["sub"]
    assert await refused(verifier, token(preferred_username=None, sub=None)) == "missing_claim"


async def test_configured_claims_and_nested_roles(idp: Idp, clock: Clock) -> None:
    verifier = OidcVerifier(settings(idp.url, role_claim="realm_access.roles", name_claim="email"), clock=clock)
    principal = await verifier.verify(token(realm_access={"roles": ["offline_access", "supervisor"]},
                                            email="budi@dinsos.test"))
    assert principal == Principal(name="budi@dinsos.test", role="supervisor", via="oidc")


async def test_audience_list_and_leeway(verifier: OidcVerifier) -> None:
    assert await verifier.verify(token(aud=["account", AUDIENCE]))
    assert await verifier.verify(token(exp=int(time.time()) - 10))  # within the 30 s leeway


async def test_token_without_kid_uses_the_only_key(verifier: OidcVerifier) -> None:
    assert (await verifier.verify(token(kid=None))).name == "siti"


# --- refused tokens --------------------------------------------------------------------------------------------


async def test_expired(verifier: OidcVerifier) -> None:
    assert await refused(verifier, token(exp=int(time.time()) - 120)) == "expired"


async def test_exp_required(verifier: OidcVerifier) -> None:
    assert await refused(verifier, token(exp=None)) == "missing_claim"


async def test_not_yet_valid(verifier: OidcVerifier) -> None:
    assert await refused(verifier, token(nbf=int(time.time()) + 600)) == "not_yet_valid"


async def test_wrong_audience(verifier: OidcVerifier) -> None:
    assert await refused(verifier, token(aud="another-app")) == "wrong_audience"
    assert await refused(verifier, token(aud=["account"])) == "wrong_audience"
    assert await refused(verifier, token(aud=None)) == "missing_claim"


async def test_wrong_issuer(verifier: OidcVerifier) -> None:
    assert await refused(verifier, token(iss="https://evil.test/realms/sinergi")) == "wrong_issuer"
    assert await refused(verifier, token(iss=None)) == "missing_claim"


async def test_signed_by_another_key(verifier: OidcVerifier) -> None:
    assert await refused(verifier, token(key=STRANGER, sinergi_role="supervisor")) == "bad_signature"


async def test_tampered_payload(verifier: OidcVerifier) -> None:
    header, _, signature = token(sinergi_role="engineer").split(".")
    forged = b64url(json.dumps(claims(sinergi_role="supervisor")).encode())
    assert await refused(verifier, f"{header}.{forged}.{signature}") == "bad_signature"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_alg_none(verifier: OidcVerifier, idp: Idp, alg: str) -> None:
    header = b64url(json.dumps({"alg": alg, "typ": "JWT", "kid": "key-a"}).encode())
    payload = b64url(json.dumps(claims(sinergi_role="supervisor")).encode())
    assert await refused(verifier, f"{header}.{payload}.") == "algorithm_not_allowed"
    assert idp.requests == 0  # refused before any key is looked up


async def test_hs256_with_the_public_key_as_secret(verifier: OidcVerifier) -> None:
    """The classic confusion: HMAC keyed with the RSA public key's PEM, which anyone can download."""
    pem = KEY_A.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for secret in (pem, json.dumps(jwk(KEY_A, "key-a")).encode()):
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "key-a"}).encode())
        payload = b64url(json.dumps(claims(sinergi_role="supervisor")).encode())
        signature = b64url(hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        assert await refused(verifier, f"{header}.{payload}.{signature}") == "algorithm_not_allowed"


async def test_allowed_alg_must_suit_the_key(idp: Idp, clock: Clock) -> None:
    """With RS256 and PS256 allowed, a JWK pinned to RS256 verifies only RS256 tokens."""
    idp.keys = [jwk(KEY_A, "key-a", alg="RS256")]
    verifier = OidcVerifier(settings(idp.url, algorithms=["RS256", "PS256"]), clock=clock)
    assert await verifier.verify(token(alg="RS256"))
    assert await refused(verifier, token(alg="PS256")) == "unknown_key"
    idp.keys = [jwk(KEY_A, "key-a", alg="RS512")]  # an algorithm not in [auth] algorithms: the key is unusable
    verifier = OidcVerifier(settings(idp.url), clock=clock)
    assert await refused(verifier, token()) == "unknown_key"


async def test_symmetric_and_private_keys_in_the_jwks_are_ignored(idp: Idp, clock: Clock) -> None:
    idp.keys = [{"kty": "oct", "kid": "key-a", "k": b64url(b"0" * 32)},
                {**RSAAlgorithm.to_jwk(KEY_A, as_dict=True), "kid": "key-a"}]
    verifier = OidcVerifier(settings(idp.url), clock=clock)
    assert await refused(verifier, token()) == "unknown_key"


@pytest.mark.parametrize("value", ["", "abc", "a.b", "a.b.c", "a.b.c.d.e", "é.é.é", "x" * 9000,
                                   b64url(b'{"alg":"RS256"}') + "." + "A" * 8200 + ".sig"])
async def test_malformed(verifier: OidcVerifier, idp: Idp, value: str) -> None:
    assert await refused(verifier, value) == "malformed"
    assert idp.requests == 0


# --- keys: rotation, outages, rate limit -------------------------------------------------------------------------


async def test_unknown_kid_refetches_once(verifier: OidcVerifier, idp: Idp, clock: Clock) -> None:
    assert await verifier.verify(token())
    clock.advance(11)
    assert await refused(verifier, token(kid="no-such-key")) == "unknown_key"
    assert idp.requests == 2  # the initial fetch and one look for the rotated key
    assert await refused(verifier, token(kid="no-such-key")) == "unknown_key"
    assert idp.requests == 2  # not again within 10 s


async def test_key_rotation(verifier: OidcVerifier, idp: Idp, clock: Clock) -> None:
    old = token(key=KEY_A, kid="key-a")
    assert await verifier.verify(old)
    assert idp.requests == 1

    # The provider adds its new key and signs with it: one refetch finds it.
    idp.keys = [jwk(KEY_A, "key-a"), jwk(KEY_B, "key-b")]
    clock.advance(60)
    assert (await verifier.verify(token(key=KEY_B, kid="key-b", sinergi_role="supervisor"))).role == "supervisor"
    assert idp.requests == 2
    assert await verifier.verify(old)

    # The old key is withdrawn: its tokens hold only while the cached JWKS does.
    idp.keys = [jwk(KEY_B, "key-b")]
    clock.advance(CACHE_SECONDS - 1)
    assert await verifier.verify(old)
    assert idp.requests == 2
    clock.advance(2)
    assert await refused(verifier, old) == "unknown_key"
    assert idp.requests == 3
    assert await verifier.verify(token(key=KEY_B, kid="key-b"))
    assert idp.requests == 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_jwks_server_down(clock: Clock) -> None:
    verifier = OidcVerifier(settings(f"http://127.0.0.1:{free_port()}/certs"), clock=clock, fetch_timeout=2.0)
    assert await refused(verifier, token()) == "jwks_unavailable"


async def test_jwks_errors_then_recovers(verifier: OidcVerifier, idp: Idp, clock: Clock) -> None:
    idp.status = 503
    assert await refused(verifier, token()) == "jwks_unavailable"
    assert await refused(verifier, token()) == "jwks_unavailable"
    assert idp.requests == 1  # an outage is not hammered either
    idp.status = 200
    clock.advance(10)
    assert await verifier.verify(token())
    assert idp.requests == 2


async def test_stale_keys_are_not_trusted_when_the_provider_is_down(verifier: OidcVerifier, idp: Idp,
                                                                     clock: Clock) -> None:
    assert await verifier.verify(token())
    idp.status = 500
    clock.advance(CACHE_SECONDS)
    assert await refused(verifier, token()) == "jwks_unavailable"


async def test_a_flood_of_random_kids_is_rate_limited(verifier: OidcVerifier, idp: Idp, clock: Clock) -> None:
    assert await verifier.verify(token())
    clock.advance(30)
    flood = [token(kid=uuid.uuid4().hex) for _ in range(50)]
    reasons = await asyncio.gather(*(refused(verifier, value) for value in flood))
    assert set(reasons) == {"unknown_key"}
    assert idp.requests == 2  # 50 concurrent unknown kids: one refetch between them
    for value in flood[:10]:
        assert await refused(verifier, value) == "unknown_key"
    assert idp.requests == 2
    clock.advance(10)
    assert await refused(verifier, flood[0]) == "unknown_key"
    assert idp.requests == 3  # at most one per 10 s
    assert await verifier.verify(token())  # and the real key still works throughout


async def test_concurrent_first_requests_fetch_once(verifier: OidcVerifier, idp: Idp) -> None:
    principals = await asyncio.gather(*(verifier.verify(token()) for _ in range(20)))
    assert {p.name for p in principals} == {"siti"}
    assert idp.requests == 1


async def test_the_token_is_never_logged(idp: Idp, clock: Clock) -> None:
    verifier = OidcVerifier(settings(idp.url), clock=clock)
    values = [token(aud="other"), token(kid="nope"), token(key=STRANGER), token(exp=1)]
    with capture_logs() as logs:
        for value in values:
            await refused(verifier, value)
        idp.status = 500
        clock.advance(CACHE_SECONDS)
        await refused(verifier, token())
    text = repr(logs)
    assert logs  # the fetches were logged
    for value in values:
        for part in value.split("."):
            assert part not in text


def test_needs_an_identity_provider() -> None:
    with pytest.raises(ValueError):
        OidcVerifier(AuthSettings())
