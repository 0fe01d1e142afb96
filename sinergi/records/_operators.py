"""Named operators (issue 24; SPEC "Operators and engineers in production"), kept in the case record's database.

`add` prints a token once; only its SHA-256 is stored. The gateway (`verify`) turns a token back into the
operator's name and role; the name is what every event the operator enters records (`operator:NAME`), so a
name is never reused: a revoked operator keeps its row, and `add` of a known name is refused (`rotate` gives
the same person a new token and ends the old one).

Why a plain hash and not a slow one (bcrypt, argon2): a token is 256 random bits, not a password a person
chose; no dictionary reaches it, and the gateway verifies one on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel

from sinergi.records import _schema as t
from sinergi.records._errors import RecordError
from sinergi.records._store import CaseRecord

Role = Literal["caseworker", "supervisor", "engineer"]
ROLES: tuple[Role, ...] = ("caseworker", "supervisor", "engineer")
TOKEN_PREFIX = "sinergi_op_"
# Lower-case letters, digits, dot, dash, underscore: a name goes into events (`operator:NAME`), logs and reports.
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}")


class OperatorError(RecordError):
    """An operator command that cannot be done as asked. `kind` says which (`bad_name`, `bad_role`, `exists`,
    `name_used`, `unknown`, `revoked`), for a caller that tells it in the reader's language."""

    def __init__(self, message: str, *, kind: str, name: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.name = name


class Operator(BaseModel):
    name: str
    role: Role
    created_at: datetime
    created_by: str
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class Issued(BaseModel):
    """An operator with the token just made for it: shown once, never stored."""

    operator: Operator
    token: str


def looks_like_operator_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise OperatorError(f"operator name {name!r}: expected 2-63 of a-z, 0-9, '.', '-', '_' (starting with a "
                            "letter or digit), e.g. siti.rahma", kind="bad_name", name=name)
    return name


class Operators:
    """The operators of one case record."""

    def __init__(self, record: CaseRecord) -> None:
        self._record = record

    def add(self, name: str, role: Role, *, created_by: str, at: datetime | None = None) -> Issued:
        check_name(name)
        if role not in ROLES:
            raise OperatorError(f"role {role!r}: expected one of {', '.join(ROLES)}", kind="bad_role", name=name)
        token, hashed = _new_token()
        at = at or datetime.now(UTC)
        with self._record._connection(writes=True) as conn:
            existing = conn.execute(sa.select(t.operators.c.revoked_at).where(t.operators.c.name == name)).first()
            if existing is not None and existing.revoked_at is None:
                raise OperatorError(f"operator {name} exists; give a new token with "
                                    f"`sinergi admin operator rotate {name}`", kind="exists", name=name)
            if existing is not None:
                raise OperatorError(f"operator {name} was revoked, and a name is never given again (past events "
                                    "keep pointing at one person): choose another name", kind="name_used", name=name)
            conn.execute(sa.insert(t.operators).values(name=name, role=role, token_hash=hashed, created_at=at,
                                                       created_by=created_by))
        return Issued(operator=Operator(name=name, role=role, created_at=at, created_by=created_by), token=token)

    def rotate(self, name: str, *, at: datetime | None = None) -> Issued:
        """A new token for an active operator; the old one stops working (within the gateway's cache time)."""
        token, hashed = _new_token()
        operator = self._change_active(name, token_hash=hashed, rotated_at=at or datetime.now(UTC))
        return Issued(operator=operator, token=token)

    def revoke(self, name: str, *, revoked_by: str, at: datetime | None = None) -> Operator:
        return self._change_active(name, revoked_at=at or datetime.now(UTC), revoked_by=revoked_by)

    def _change_active(self, name: str, **values: object) -> Operator:
        """Change an active operator's row; `OperatorError` if there is none (unknown, or revoked)."""
        with self._record._connection(writes=True) as conn:
            done = conn.execute(sa.update(t.operators)
                                .where(t.operators.c.name == name, t.operators.c.revoked_at.is_(None))
                                .values(**values))
            if done.rowcount != 1:
                raise self._missing(conn, name)
            row = conn.execute(sa.select(t.operators).where(t.operators.c.name == name)).one()
        return Operator.model_validate(row._asdict())

    def list(self, *, include_revoked: bool = True) -> list[Operator]:
        query = sa.select(t.operators).order_by(t.operators.c.name)
        if not include_revoked:
            query = query.where(t.operators.c.revoked_at.is_(None))
        with self._record._connection() as conn:
            return [Operator.model_validate(row._asdict()) for row in conn.execute(query)]

    def verify(self, token: str) -> Operator | None:
        """The active operator holding `token`, or None (unknown, revoked or malformed alike)."""
        if not looks_like_operator_token(token) or len(token) > 200:
            return None
        hashed = token_hash(token)
        with self._record._connection() as conn:
            row = conn.execute(sa.select(t.operators).where(t.operators.c.token_hash == hashed)).first()
        # The lookup is by an index on the hash; the compare below only guards against a collation surprise.
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, hashed):
            return None
        return Operator.model_validate(row._asdict())

    @staticmethod
    def _missing(conn: sa.Connection, name: str) -> OperatorError:
        row = conn.execute(sa.select(t.operators.c.revoked_at).where(t.operators.c.name == name)).first()
        if row is None:
            return OperatorError(f"no operator {name}; see `sinergi admin operator list`", kind="unknown", name=name)
        return OperatorError(f"operator {name} is revoked", kind="revoked", name=name)
