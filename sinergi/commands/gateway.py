"""`sinergi gateway`: the HTTP gateway as a process of its own (SPEC "Processes")."""

from __future__ import annotations

import asyncio

import click

from sinergi import telemetry
from sinergi.cli import App, common
from sinergi.console import BAD_INPUT, UserError
from sinergi.logs import configure


@click.command()
@common
def gateway(app: App) -> None:
    """Run the HTTP gateway: agency events in, the codec endpoint for the Temporal UI (Ctrl-C to stop).

    \b
    Examples:
      sinergi gateway
      SINERGI_GATEWAY_PORT=9000 SINERGI_CODEC_TOKEN=... sinergi gateway
    """
    # Imported here: processes.py lists this command, so a module-level import would be circular.
    from sinergi.commands.processes import _stop_on_signals
    from sinergi.gateway.serve import serve

    settings = app.settings
    configure(settings.telemetry.log_level, settings.telemetry.log_format)
    telemetry.setup(settings, telemetry.GATEWAY)

    async def go() -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        await serve(settings, stop)

    try:
        asyncio.run(go())
    except OSError as exc:  # the port is taken, or the host is not ours
        raise UserError(f"cannot listen on {settings.gateway.host}:{settings.gateway.port}: {exc.strerror}",
                        BAD_INPUT, hint="set [gateway] port (or SINERGI_GATEWAY_PORT)") from exc
    finally:
        telemetry.flush()
