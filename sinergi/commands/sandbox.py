"""`sinergi sandbox`: the simulated agency systems alone (SPEC "Processes")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from sinergi.commands.console import BAD_INPUT, UserError
from sinergi.commands.kit import App, common, serve_until_stopped
from sinergi.commands.language import Command, _

if TYPE_CHECKING:
    import asyncio


def _pairs(parse, values: tuple[str, ...], option: str) -> list:
    try:
        return [parse(v) for v in values]
    except ValueError as exc:
        raise UserError(f"{option}: {exc}", BAD_INPUT) from exc


def people_option(text: str, registry) -> frozenset[str]:
    """`--people a,b` → {"a", "b"} (spaces and empty items ignored); `all`: every e-mail office; `none`: none.
    UserError naming the e-mail offices when one is not."""
    from sinergi.sandbox.runner import NotByMail, check_people

    names = [p.strip() for p in text.split(",") if p.strip()]
    if names == ["all"]:
        return frozenset(o.id for o in registry.offices.values() if o.adapter == "email")
    left = frozenset() if names == ["none"] else frozenset(names)
    try:
        check_people(registry, left)
    except NotByMail as exc:
        raise UserError(_("--people: not an e-mail office of the agreement: {unknown}; the e-mail offices are: "
                          "{offices}").format(unknown=", ".join(exc.unknown), offices=", ".join(exc.by_mail) or
                                              _("none")), BAD_INPUT) from exc
    return left


@click.command(cls=Command)
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Loopback port for every office (default: [dev] sandbox_port, 9100).")
@click.option("--delay", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Seconds before each step an agency takes.")
@click.option("--jitter", type=click.FloatRange(min=0), default=0.5, show_default=True,
              help="Up to this many seconds added at random to each delay.")
@click.option("--answer-delay", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Seconds each office takes to answer a delivery (a slow agency system).")
@click.option("--decline-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of referrals the agencies decline.")
@click.option("--failure-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of deliveries answered with a 500 (the adapter retries them).")
@click.option("--outage", "outages", multiple=True, metavar="OFFICE=START-END",
              help="An office (or '*') down between START and END seconds after start; repeatable.")
@click.option("--reject", "rejects", multiple=True, metavar="OFFICE=REASON",
              help="An office refusing every delivery with a 422 and this reason; repeatable.")
@click.option("--gateway", "gateway_url", default=None, metavar="URL",
              help="Where agencies send events (default: each referral's callback_url).")
@click.option("--seed", type=int, default=None, help="Seed for the decline and failure draws.")
@click.option("--people", "people", default="none", metavar="OFFICE,...|all|none",
              help="E-mail offices left to people: their mail is caught, and a person answers on the page.")
@common
def sandbox(app: App, port: int | None, delay: float, jitter: float, answer_delay: float, decline_rate: float,
            failure_rate: float, outages: tuple[str, ...], rejects: tuple[str, ...], gateway_url: str | None,
            seed: int | None, people: str) -> None:
    """Run the simulated agency systems on loopback until Ctrl-C.

    Every office of the agencies file is served at http://127.0.0.1:PORT/OFFICE (referrals, notices);
    GET /ledger shows what each office received and how often. The e-mail offices' mail is caught on
    [dev] mail_port (unless [email] host is set) and answered on the referral page, as an officer would.

    \b
    Examples:
      sinergi sandbox
      sinergi sandbox --delay 0.2 --decline-rate 0.1 --failure-rate 0.05
      sinergi sandbox --outage kbri_kuala_lumpur=30-300 --reject polda_kalsel='report form incomplete'
      sinergi sandbox --people dinsos_kalsel
    """
    from sinergi import bootstrap
    from sinergi.platform import telemetry
    from sinergi.sandbox import SandboxOptions, parse_outage, parse_reject, serve

    settings = app.settings
    windows: dict[str, list] = {}
    for office, window in _pairs(parse_outage, outages, "--outage"):
        windows.setdefault(office, []).append(window)
    options = SandboxOptions(delay=delay, jitter=jitter, answer_delay=answer_delay, decline_rate=decline_rate,
                             failure_rate=failure_rate,
                             outages=windows, reject=dict(_pairs(parse_reject, rejects, "--reject")),
                             gateway_url=gateway_url, seed=seed,
                             people=people_option(people, bootstrap.office_registry(settings)))
    where = port if port is not None else settings.dev.sandbox_port
    click.echo(_("sandbox agencies on http://127.0.0.1:{port} (ledger: /ledger); Ctrl-C to stop").format(port=where),
               err=True)

    async def agencies(stop: asyncio.Event) -> None:
        try:
            await serve(settings, options, stop, port)
        except OSError as exc:
            raise UserError(_("cannot listen: {error}").format(error=exc.strerror), BAD_INPUT,
                            hint=_("is another sandbox running? choose another --port or [dev] mail_port")) from exc

    serve_until_stopped(settings, telemetry.SANDBOX, agencies)
