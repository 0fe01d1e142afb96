"""A stand-in identity provider for tests: an RSA signing key, its JWKS served over HTTP on loopback, and access
tokens as a real provider (Keycloak, Dex) issues them — so the gateway's OIDC path runs for real, unmocked.

    async with TestIdp.serving() as idp:
        settings = idp.auth_settings()                 # [auth] issuer, audience, jwks_url
        token = idp.token("siti.rahma", role="caseworker")
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sinergi.platform.config import AuthSettings

ISSUER = "https://idp.sinergi.test/realms/kalsel"
AUDIENCE = "sinergi-gateway"


class TestIdp:
    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"test-{uuid.uuid4().hex[:8]}"
        self.jwks_url = ""

    def jwks(self) -> dict[str, Any]:
        from jwt.algorithms import RSAAlgorithm

        public = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def auth_settings(self) -> AuthSettings:
        return AuthSettings(issuer=ISSUER, audience=AUDIENCE, jwks_url=self.jwks_url)

    def token(self, name: str, role: str | None = None, *, lifetime: int = 600, **claims: Any) -> str:
        import jwt

        now = int(time.time())
        body: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
                                "preferred_username": name, "iat": now, "exp": now + lifetime, **claims}
        if role is not None:
            body["sinergi_role"] = role
        return jwt.encode(body, self._key, algorithm="RS256", headers={"kid": self.kid})

    @classmethod
    @asynccontextmanager
    async def serving(cls) -> AsyncIterator[TestIdp]:
        from aiohttp import web

        idp = cls()

        async def certs(request: web.Request) -> web.Response:
            return web.json_response(idp.jwks())

        app = web.Application()
        app.router.add_get("/protocol/openid-connect/certs", certs)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        idp.jwks_url = f"http://{host}:{port}/protocol/openid-connect/certs"
        try:
            yield idp
        finally:
            await runner.cleanup()
