"""Running an admin command's call to Temporal: its refusals translated into user errors once, for `sinergi admin`
and its groups (`deploy`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sinergi.commands.console import BAD_INPUT, UNREACHABLE, UserError
from sinergi.commands.language import _

if TYPE_CHECKING:
    from temporalio.service import RPCStatusCode


def run_admin(coro, address: str, *, not_found: UserError | None = None):
    """Run `coro`, translating Temporal's refusals: unreachable is exit 3, a wrong namespace or credential 2;
    `not_found`, when given, is what a NOT_FOUND answer means to the command (its message gets the server's)."""
    import asyncio

    from temporalio.service import RPCError, RPCStatusCode

    try:
        return asyncio.run(coro)
    except RuntimeError as exc:
        if "connect" not in str(exc).lower():
            raise
        raise UserError(_("cannot reach Temporal at {address}: {error}").format(address=address, error=exc),
                        UNREACHABLE,
                        hint=_("check [temporal] address, tls_* and api_key_env (or SINERGI_TEMPORAL_*)")) from exc
    except RPCError as exc:
        message = _("Temporal at {address} refused: {error}").format(address=address,
                                                                      error=exc.message or exc.status.name)
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise UserError(message, UNREACHABLE) from exc
        if not_found is not None and exc.status == RPCStatusCode.NOT_FOUND:
            raise UserError(message, not_found.exit_code, hint=not_found.hint, code=not_found.code) from exc
        raise UserError(message, BAD_INPUT, hint=_refusal_hint(exc.status)) from exc


def _refusal_hint(status: RPCStatusCode) -> str | None:
    from temporalio.service import RPCStatusCode

    if status == RPCStatusCode.NOT_FOUND:
        return _("does the namespace exist? (temporal operator namespace create -n NAME)")
    if status == RPCStatusCode.PERMISSION_DENIED:
        from sinergi.platform.temporal import search_attribute_flags

        wanted = " ".join(search_attribute_flags()[1::2])
        return _("if this key may not change the namespace (Temporal Cloud: use the Cloud UI or tcld), add: "
                 "{attributes}").format(attributes=wanted)
    if status == RPCStatusCode.UNAUTHENTICATED:
        return _("check [temporal] tls_cert_file / tls_key_file or api_key_env")
    return None
