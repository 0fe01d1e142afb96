"""Who is calling the codec endpoint, and in which role (SPEC "Operators and engineers in production").

A bearer token is, in this order:
- a named operator's token (`sinergi_op_…`): looked up by its hash in the case record (`sinergi.records.Operators`);
  a revoked or rotated token stops working within `OPERATOR_CACHE_SECONDS`;
- the identity provider's access token (a JWT), when `[auth] issuer` is set: the Temporal UI sends its signed-in
  user's (`TEMPORAL_CODEC_PASS_ACCESS_TOKEN`); the role comes from `[auth] role_claim`
  (`sinergi.gateway.oidc`);
- the deployment's shared codec token (`[gateway] codec_token_env`): a machine's, not a person's — an engineer.
Without a token, only `sinergi dev`'s UI link session is admitted: an engineer too. Only caseworkers and
supervisors see a victim's personal fields; everyone else decodes them masked (`sinergi.gateway.masking`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import OrderedDict
from typing import Any

import structlog

from sinergi.gateway.principals import Principal

log = structlog.get_logger("sinergi.gateway.identities")

OPERATOR_CACHE_SECONDS = 10.0
_CACHE_SIZE = 1024
# Tokens looked up in the case record per second, at most (each gateway process): made-up `sinergi_op_` tokens
# cost a database query each, so a flood of them is refused before it reaches the database. A real operator's
# token is looked up once per OPERATOR_CACHE_SECONDS.
LOOKUPS_PER_SECOND = 50
TOKEN_HOLDER = "codec-token holder"


class NotAdmitted(Exception):
    """No principal: the token is unknown, revoked, expired, forged, or of the wrong kind. `reason` is a code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Identities:
    """Turns a bearer token into a `Principal`; built once per gateway process."""

    def __init__(self, *, record: Any | None, shared_token: str | None, oidc: Any | None = None,
                 lookups_per_second: int = LOOKUPS_PER_SECOND) -> None:
        self._record = record  # an AsyncCaseRecord, or None: no named operators
        self._shared_token = shared_token
        self._oidc = oidc  # an OidcVerifier, or None
        self._operators: OrderedDict[str, tuple[float, Principal | None]] = OrderedDict()
        self._lookups_per_second = lookups_per_second
        self._window = (0.0, 0)  # (the second it counts, lookups in it)

    async def principal(self, token: str) -> Principal:
        from sinergi.records._operators import looks_like_operator_token

        token = token.strip()
        if looks_like_operator_token(token):
            return await self._operator(token)
        if self._oidc is not None and token.count(".") == 2:
            from sinergi.gateway.oidc import InvalidToken

            try:
                user = await self._oidc.verify(token)
            except InvalidToken as exc:
                raise NotAdmitted(f"oidc_{exc.reason}") from None
            # Named apart from the operators (`oidc:`): the provider's user names are its own, and a name the
            # provider gives must never pass for a named operator's in an audit.
            return Principal(name=f"oidc:{user.name}", role=user.role, via="oidc")
        if self._shared_token and hmac.compare_digest(token.encode(), self._shared_token.encode()):
            return Principal(name=TOKEN_HOLDER, role="engineer", via="codec-token")
        raise NotAdmitted("unknown_token")

    async def _operator(self, token: str) -> Principal:
        if self._record is None:
            raise NotAdmitted("no_operators")
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        cached = self._operators.get(key)
        if cached is not None and cached[0] > now:
            found = cached[1]
        else:
            from sinergi.records import Operators, RecordError

            second, count = self._window
            if int(now) != second:
                second, count = int(now), 0
            if count >= self._lookups_per_second:
                log.warning("operator_lookups_throttled", per_second=self._lookups_per_second)
                raise NotAdmitted("too_many_lookups")
            self._window = (second, count + 1)
            try:
                operator = await asyncio.to_thread(Operators(self._record.record).verify, token)
            except RecordError as exc:
                log.error("operator_check_unavailable", problem=type(exc).__name__)
                raise NotAdmitted("record_unavailable") from None
            found = None if operator is None else Principal(name=operator.name, role=operator.role, via="operator")
            self._operators[key] = (now + OPERATOR_CACHE_SECONDS, found)
            self._operators.move_to_end(key)
            while len(self._operators) > _CACHE_SIZE:
                self._operators.popitem(last=False)
        if found is None:
            raise NotAdmitted("unknown_operator")
        return found
