"""`sinergi gateway`: the HTTP gateway as a process of its own (SPEC "Processes")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from sinergi.commands.console import BAD_INPUT, UserError
from sinergi.commands.kit import App, common, serve_until_stopped
from sinergi.commands.language import Command, _

if TYPE_CHECKING:
    import asyncio


@click.command(cls=Command)
@common
def gateway(app: App) -> None:
    """Run the HTTP gateway: agency events in, the codec endpoint for the Temporal UI (Ctrl-C to stop).

    \b
    Examples:
      sinergi gateway
      SINERGI_GATEWAY_PORT=9000 SINERGI_CODEC_TOKEN=... sinergi gateway
    """
    # Imported here, as every command's heavy imports are: `sinergi --help` need not load the web stack.
    from sinergi.gateway.serve import serve
    from sinergi.platform import telemetry

    settings = app.settings

    async def listen(stop: asyncio.Event) -> None:
        try:
            await serve(settings, stop)
        except OSError as exc:  # the port is taken, or the host is not ours
            raise UserError(_("cannot listen on {host}:{port}: {error}").format(
                                host=settings.gateway.host, port=settings.gateway.port, error=exc.strerror),
                            BAD_INPUT, hint=_("set [gateway] port (or SINERGI_GATEWAY_PORT)")) from exc

    serve_until_stopped(settings, telemetry.GATEWAY, listen)
