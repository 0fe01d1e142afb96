"""The identity provider's access tokens (SPEC "Operators and engineers in production", issue 24).

`OidcVerifier.verify(token)` answers the `Principal` a signed, current access token names, or raises
`InvalidToken` with a short reason code (never the token, never a library message that may quote it).

- Keys: the provider's JWKS (`[auth] jwks_url`), fetched with aiohttp and kept `jwks_cache_seconds`. A token
  whose `kid` is not among them triggers one refetch (key rotation); fetches are at most one per
  `refetch_interval` (10 s), so a flood of tokens with made-up `kid`s cannot hammer the provider. Keys older than
  the cache time are not trusted: when they cannot be refreshed, tokens are refused (`jwks_unavailable`).
- Algorithms: pinned to `[auth] algorithms`. The header's `alg` only selects among those (`none`, HS256 with the
  public key as secret ... are refused before any key is looked up), and it must suit the key: the JWK's `kty`
  (and `crv`), and its `alg` when it names one. Symmetric and private keys in the JWKS are ignored.
- Claims: `exp` required, `iat`/`nbf` checked when present, `iss` must be the issuer, `aud` must contain the
  audience, all with `leeway_seconds`. The role comes from `role_claim` (a string or a list; `supervisor` wins
  over `caseworker`; anything else, or nothing, is `engineer`: masked); the name from `name_claim`, else `sub`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeGuard

import jwt
import structlog
from aiohttp import ClientError, ClientSession, ClientTimeout
from jwt import PyJWK

from sinergi.gateway.principals import LEAST_PRIVILEGE, Principal, Role
from sinergi.platform.config import AuthSettings

log = structlog.get_logger("sinergi.gateway")

Reason = Literal[
    "expired",
    "not_yet_valid",
    "wrong_audience",
    "wrong_issuer",
    "bad_signature",
    "unknown_key",
    "algorithm_not_allowed",
    "malformed",
    "jwks_unavailable",
    "missing_claim",
]

MAX_TOKEN_CHARS = 8192
MAX_JWKS_BYTES = 256 * 1024
MAX_NAME_CHARS = 200
REFETCH_INTERVAL_SECONDS = 10.0
FETCH_TIMEOUT_SECONDS = 5.0

# What each algorithm's key looks like in a JWKS: its `kty`, and for EC and OKP the curves it may use.
_KEY_SHAPE: dict[str, tuple[str, frozenset[str] | None]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", frozenset({"P-256"})),
    "ES384": ("EC", frozenset({"P-384"})),
    "ES512": ("EC", frozenset({"P-521"})),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
}
# Private-key members: a JWKS that publishes them is broken, and PyJWT would build a private key from them.
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")


class InvalidToken(Exception):
    """A token the gateway refuses; `reason` is a short code, safe to log and to answer with."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


class OidcVerifier:
    """Verifies the identity provider's access tokens against its JWKS (see the module docstring)."""

    def __init__(
        self,
        settings: AuthSettings,
        *,
        session: ClientSession | None = None,
        clock: Callable[[], float] = time.monotonic,
        refetch_interval: float = REFETCH_INTERVAL_SECONDS,
        fetch_timeout: float = FETCH_TIMEOUT_SECONDS,
    ) -> None:
        if settings.issuer is None or settings.audience is None or settings.jwks_url is None:
            raise ValueError("[auth] names no identity provider (issuer, audience and jwks_url)")
        unknown = [alg for alg in settings.algorithms if alg not in _KEY_SHAPE]
        if unknown or not settings.algorithms:
            raise ValueError(f"[auth] algorithms: unsupported {unknown or 'empty list'}")
        self._issuer = settings.issuer
        self._audience = settings.audience
        self._jwks_url = settings.jwks_url
        self._algorithms = tuple(settings.algorithms)
        self._role_claim = settings.role_claim
        self._name_claim = settings.name_claim
        self._leeway = settings.leeway_seconds
        self._session = session  # the caller's, if given (and the caller closes it); else one per fetch
        self._clock = clock
        self._refetch_interval = refetch_interval
        # Trusted for the cache time, but never refetched more often than the rate limit allows.
        self._ttl = max(settings.jwks_cache_seconds, refetch_interval)
        self._fetch_timeout = fetch_timeout
        # (kid, alg) → key; a JWK without `kid` is filed under None.
        self._keys: dict[tuple[str | None, str], PyJWK] = {}
        self._fetched_at: float | None = None  # the last successful fetch
        self._attempted_at: float | None = None  # the last fetch, successful or not
        self._attempts = 0
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> Principal:
        alg, kid = _header(token)
        if alg not in self._algorithms:
            raise InvalidToken("algorithm_not_allowed")
        key = await self._key(kid, alg)
        claims = self._decode(token, key, alg)
        return Principal(name=self._name(claims), role=self._role(claims), via="oidc")

    # --- keys ---------------------------------------------------------------------------------------------

    def _stale(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self._ttl

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self._refetch_interval

    async def _key(self, kid: str | None, alg: str) -> PyJWK:
        if self._stale(self._clock()):
            await self._refresh()
            if self._stale(self._clock()):
                raise InvalidToken("jwks_unavailable")
        key = self._lookup(kid, alg)
        if key is None and self._may_fetch(self._clock()):
            # Perhaps the provider rotated its keys: look once more (rate-limited).
            await self._refresh()
            if self._stale(self._clock()):
                raise InvalidToken("jwks_unavailable")
            key = self._lookup(kid, alg)
        if key is None:
            raise InvalidToken("unknown_key")
        return key

    def _lookup(self, kid: str | None, alg: str) -> PyJWK | None:
        key = self._keys.get((kid, alg))
        if key is None and kid is None:
            # A token without `kid` is accepted only when the provider has a single key for its algorithm.
            candidates = [k for (_, a), k in self._keys.items() if a == alg]
            if len(candidates) == 1:
                key = candidates[0]
        return key

    async def _refresh(self) -> None:
        attempts = self._attempts
        async with self._lock:
            if self._attempts != attempts or not self._may_fetch(self._clock()):
                return  # another request fetched meanwhile, or it is too soon to ask again
            self._attempts += 1
            self._attempted_at = self._clock()
            try:
                document = await self._fetch()
                keys = _usable_keys(document, self._algorithms)
            except _Unavailable as exc:
                log.warning("oidc_jwks_unavailable", url=self._jwks_url, problem=exc.problem,
                            effect="identity-provider tokens are refused until the keys can be fetched")
                return
            self._keys = keys
            self._fetched_at = self._clock()
            log.info("oidc_jwks_fetched", url=self._jwks_url, keys=len({kid for kid, _ in keys}))

    async def _fetch(self) -> Any:
        timeout = ClientTimeout(total=self._fetch_timeout)
        try:
            if self._session is not None:
                return await _get_json(self._session, self._jwks_url, timeout)
            async with ClientSession(timeout=timeout) as session:
                return await _get_json(session, self._jwks_url, timeout)
        except (ClientError, OSError, TimeoutError) as exc:
            raise _Unavailable(type(exc).__name__) from None

    # --- claims -------------------------------------------------------------------------------------------

    def _decode(self, token: str, key: PyJWK, alg: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key.key,  # the public key itself, with the one algorithm checked to suit it
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "aud"], "verify_signature": True, "verify_exp": True,
                         "verify_iat": True, "verify_nbf": True, "verify_aud": True, "verify_iss": True},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("not_yet_valid") from None
        except jwt.MissingRequiredClaimError:
            raise InvalidToken("missing_claim") from None
        except jwt.InvalidAudienceError:
            raise InvalidToken("wrong_audience") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("wrong_issuer") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("bad_signature") from None
        except jwt.InvalidAlgorithmError:
            raise InvalidToken("algorithm_not_allowed") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise InvalidToken("malformed") from None

    def _name(self, claims: Mapping[str, Any]) -> str:
        name = _claim(claims, self._name_claim)
        if _printable(name):
            return name
        sub = claims.get("sub")
        if _printable(sub):
            return sub
        raise InvalidToken("missing_claim")

    def _role(self, claims: Mapping[str, Any]) -> Role:
        value = _claim(claims, self._role_claim)
        listed = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        values = {item for item in listed if isinstance(item, str)}
        if "supervisor" in values:
            return "supervisor"
        if "caseworker" in values:
            return "caseworker"
        return LEAST_PRIVILEGE


class _Unavailable(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _header(token: str) -> tuple[str, str | None]:
    """The unverified header's `alg` and `kid`, after a size check: nothing is parsed from an oversized token."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise InvalidToken("malformed")
    if token.count(".") != 2:
        raise InvalidToken("malformed")  # a JWS in compact form; JWE (five parts) is not an access token here
    try:
        header = jwt.get_unverified_header(token)
    except (jwt.PyJWTError, ValueError, TypeError):
        raise InvalidToken("malformed") from None
    alg = header.get("alg")
    kid = header.get("kid")
    if not isinstance(alg, str) or (kid is not None and not isinstance(kid, str)):
        raise InvalidToken("malformed")
    return alg, kid


async def _get_json(session: ClientSession, url: str, timeout: ClientTimeout) -> Any:
    async with session.get(url, timeout=timeout, headers={"Accept": "application/json"}) as response:
        if response.status != 200:
            raise _Unavailable(f"HTTP {response.status}")
        body = await response.content.read(MAX_JWKS_BYTES + 1)
        if len(body) > MAX_JWKS_BYTES:
            raise _Unavailable("JWKS too large")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _Unavailable("not JSON") from None


def _usable_keys(document: Any, algorithms: tuple[str, ...]) -> dict[tuple[str | None, str], PyJWK]:
    """Each public signing key in the JWKS, once per allowed algorithm it suits."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise _Unavailable("not a JWKS")
    keys: dict[tuple[str | None, str], PyJWK] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
            continue
        if any(member in jwk for member in _PRIVATE_MEMBERS):
            continue
        kid = jwk.get("kid")
        if kid is not None and not isinstance(kid, str):
            continue
        for alg in algorithms:
            if _suits(jwk, alg) and (kid, alg) not in keys:
                try:
                    keys[(kid, alg)] = PyJWK(jwk, algorithm=alg)
                except (jwt.PyJWTError, ValueError, TypeError):
                    continue  # an unusable key is skipped, as PyJWKSet does
    return keys


def _suits(jwk: Mapping[str, Any], alg: str) -> bool:
    kty, curves = _KEY_SHAPE[alg]
    if jwk.get("kty") != kty:
        return False
    if curves is not None and jwk.get("crv") not in curves:
        return False
    return jwk.get("alg") in (None, alg)


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by name; failing that, a dotted path into nested objects (`realm_access.roles`)."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _printable(value: Any) -> TypeGuard[str]:
    return (isinstance(value, str) and 0 < len(value) <= MAX_NAME_CHARS and value.isprintable()
            and value.strip() == value)
