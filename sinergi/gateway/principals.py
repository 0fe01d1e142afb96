"""Who is decoding, once the gateway has verified it (SPEC "Operators and engineers in production").

Kept apart from the verifiers (sinergi.gateway.oidc needs PyJWT) so any code can name a principal and its role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["caseworker", "supervisor", "engineer"]
# How the principal proved who it is: a named operator's token, the identity provider's access token, the
# gateway's codec token, or `sinergi dev`'s UI session cookie.
Via = Literal["operator", "oidc", "codec-token", "dev-ui-session"]

ROLES: tuple[Role, ...] = ("caseworker", "supervisor", "engineer")
# The least privilege: personal fields masked. What an unknown or missing role becomes.
LEAST_PRIVILEGE: Role = "engineer"


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    via: Via


def may_see_personal(role: str) -> bool:
    """Caseworkers and supervisors read personal fields; engineers (and anything unknown) see them masked."""
    return role in ("caseworker", "supervisor")
