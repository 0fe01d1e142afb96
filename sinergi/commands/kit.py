"""What every command module shares: the `App` object, the `common` options (`--config`, `--profile`, `--json`,
`--output`, `--color`, `--lang`), `run` (case errors into exit codes) and `serve_until_stopped`, the one skeleton of a
long-running process (SPEC "Operator CLI", "Processes").

`sinergi.cli` and every module of `sinergi.commands` import this module; it imports neither of them, so
the command modules never reach back into `sinergi.cli` (tests/unit/test_cli_imports.py holds that line).
It stays cheap to import: `sinergi --version` and `--help` load it, so the Temporal client (behind the case
errors), the logging setup and the OpenTelemetry SDK are imported where they are used, not here.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from sinergi.commands.console import (
    BAD_INPUT,
    COLORS,
    OUTPUTS,
    REFUSED,
    UNREACHABLE,
    Output,
    UserError,
    color_choice,
    use_output,
)
from sinergi.commands.language import (
    LANGUAGES,
    UnknownLanguage,
    _,
    configured_language,
    current_language,
    resolve_language,
    use_language,
)

if TYPE_CHECKING:
    import asyncio

    from sinergi.platform.config import Settings  # pydantic: loaded when a command first reads the settings

T = TypeVar("T")


class App:
    """What every command shares: the settings (loaded once, on first use) and how to print.

    `profile` is the user config's profile (`sinergi.commands.profiles`), `output` table, json or jsonl,
    `color` True, False or None (a terminal decides), `language` what people read (`id` or `en`), `lang` the
    `--lang` given, if any.
    """

    def __init__(self, config_path: str | None, as_json: bool, *, profile: str | None = None,
                 output: str | None = None, color: bool | None = None, language: str = "en",
                 lang: str | None = None) -> None:
        self.config_path = config_path
        self.profile = profile
        self.output = output or ("json" if as_json else "table")
        self.color = color
        self.language = language
        self.lang = lang
        self._settings: Settings | None = None

    @property
    def as_json(self) -> bool:
        """Machine-readable output (`--json`, `--output json|jsonl`): nothing but JSON on stdout."""
        return self.output != "table"

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from sinergi.commands.profiles import settings_for

            self._settings = settings_for(self.config_path, self.profile)
        return self._settings

    def use_policy(self, policy: str | None) -> None:
        """`--policy`: the policy new cases open under, over `[policy] file` (SPEC "Configuration")."""
        if policy is not None:
            settings = self.settings
            self._settings = settings.model_copy(update={"policy": settings.policy.model_copy(
                update={"file": policy})})


# `--policy` of the commands that open cases (`case open`, `case new`).
POLICY_OPTION = click.option("--policy", "policy", default=None, metavar="FILE|default|demo",
                             help="The policy new cases open under (default: [policy] file, SINERGI_POLICY_FILE); "
                                  "through a gateway's codec, only the deployment's own.")


def output_options(command: Callable[..., Any], *, output: bool = True) -> Callable[..., Any]:
    """The options every command and the root share: --config, --profile, --json, --output, --color, --lang."""
    options = [
        click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="SINERGI_CONFIG",
                     help="sinergi.toml to use (default: $SINERGI_CONFIG, else the profile's, else "
                          "./sinergi.toml, else built-in defaults)."),
        click.option("--profile", metavar="NAME",
                     help="Profile of ~/.config/sinergi/config.toml to use (default: $SINERGI_PROFILE, else "
                          "the profile named default)."),
        click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout, nothing else there."),
        # Left out where the command has an --output of its own (a file; its --format says json).
        click.option("-o", "--output", "output", type=click.Choice(OUTPUTS),
                     help="table (for people), json (as --json) or jsonl (one JSON object per line).") if output
        else None,
        click.option("--color", type=click.Choice(COLORS),
                     help="Colour: auto (a terminal, unless NO_COLOR is set), always or never."),
        click.option("--lang", type=click.Choice(LANGUAGES),
                     help="Language of what you read: id (Bahasa Indonesia) or en (English). Default: "
                          "$SINERGI_LANG, else [ui] language, else the locale (id_* is Bahasa Indonesia), else en."),
    ]
    for option in reversed([o for o in options if o is not None]):
        command = option(command)
    return command


def app_from(ctx: click.Context, config_path: str | None, profile: str | None, as_json: bool,
             output: str | None, color: str | None, lang: str | None = None) -> App:
    """The App of a command: its own options, else its parents' (`sinergi --profile x case status ...`)."""
    parent = ctx.find_object(App)
    if as_json and output == "table":
        raise UserError(_("--json and --output table contradict each other: give one"), BAD_INPUT,
                        code="usage")
    mode = "json" if as_json and output is None else output
    app = App(config_path or (parent.config_path if parent else None), False,
              profile=profile or (parent.profile if parent else None),
              output=mode or (parent.output if parent else None),
              color=color_choice(color, os.environ) if color else (parent.color if parent else
                                                                   color_choice(None, os.environ)),
              lang=lang or (parent.lang if parent else None))
    if parent is None and lang is None:
        # The root, with no --lang of its own: what `Root.make_context` read off the whole command line (a
        # command's own --lang or --config included) stays in force, as the output does below.
        app.language = current_language()
    else:
        try:
            app.language = resolve_language(app.lang, os.environ,
                                            lambda: configured_language(app.config_path, app.profile, os.environ))
        except UnknownLanguage as exc:
            raise UserError(str(exc), BAD_INPUT, code="bad_language") from None
    use_language(app.language)
    ctx.color = app.color
    if parent is not None or mode or color:
        use_output(Output(app.output, app.color))
    # else the root, with none of these flags of its own: what `Root.make_context` read off the whole command
    # line stays in force, so that a usage error in the command (`case status --json`, no CASE_ID) is JSON too.
    return app


def common(command: Callable[..., Any] | None = None, *, output: bool = True) -> Any:
    """`--config`, `--profile`, `--json`, `--output` and `--color` on a command, and the App built from them.

    `@common(output=False)` leaves `--output` out, for a command whose own `--output` names a file (reports;
    their `--format` chooses json there).
    """
    if command is None:
        return lambda inner: common(inner, output=output)
    if not output:
        @click.pass_context
        @wraps(command)
        def with_file_output(ctx: click.Context, config_path: str | None, profile: str | None, as_json: bool,
                             color: str | None, lang: str | None, **kwargs: Any) -> Any:
            # The command's own --output (a file) is among `kwargs`, handed on under its name.
            return command(app_from(ctx, config_path, profile, as_json, None, color, lang), **kwargs)

        return output_options(with_file_output, output=False)

    @click.pass_context
    @wraps(command)
    def wrapper(ctx: click.Context, config_path: str | None, profile: str | None, as_json: bool,
                output: str | None, color: str | None, lang: str | None, **kwargs: Any) -> Any:
        return command(app_from(ctx, config_path, profile, as_json, output, color, lang), **kwargs)

    return output_options(wrapper)


def case_message(message: str) -> str:
    """A case's own words (`sinergi.cases`, the domain's refusals) in the run's language where they have a known
    form (`sinergi.commands.case_words`); the rest as the case said them."""
    from sinergi.commands.case_words import translated

    return translated(message)


def run(coro: Awaitable[T]) -> T:
    """Run a coroutine, translating the errors every command shares into user errors with exit codes."""
    # Imported here, not at the top: `sinergi.cases` brings the Temporal client, which `--help` does not need.
    import asyncio

    from sinergi.cases import (
        CaseBusy,
        CaseError,
        CaseExists,
        CaseNotFound,
        CaseStuck,
        EventIdReused,
        EventRefused,
        NotAllowed,
        ServiceUnavailable,
    )

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]  # asyncio.run is typed for coroutines; ours all are
    except EventRefused as exc:
        # The same answer `case why` gives: both come from `lifecycle.accepted_now`.
        accepted = ", ".join(exc.accepted) or _("none")
        raise UserError(case_message(exc.reason), REFUSED,
                        hint=_("event types accepted now: {types}").format(types=accepted),
                        code="event_refused", details={"reason": exc.reason, "accepted": exc.accepted}) from exc
    except CaseExists as exc:
        raise UserError(case_message(str(exc)), REFUSED,
                        hint=_("use another --id, or `sinergi case status` to see it"), code="case_exists") from exc
    except NotAllowed as exc:
        raise UserError(case_message(str(exc)), REFUSED,
                        hint=_("`sinergi case why` names the case's lead office; an operator may enter it without "
                               "--as"), code="not_allowed") from exc
    except EventIdReused as exc:
        raise UserError(case_message(str(exc)), REFUSED,
                        hint=_("leave out --event-id: a new one is made for each event"),
                        code="event_id_reused") from exc
    except CaseNotFound as exc:
        raise UserError(case_message(str(exc)), BAD_INPUT, hint=_("check the case id with `sinergi case list`"),
                        code="case_not_found") from exc
    except CaseStuck as exc:
        raise UserError(case_message(str(exc)), UNREACHABLE,
                        hint=_("asking again will not help: tell the engineers on duty"), code="case_stuck") from exc
    except CaseBusy as exc:
        raise UserError(case_message(str(exc)), UNREACHABLE,
                        hint=_("the case is applying an agency's answer or a deadline; run the command again"),
                        code="case_unavailable") from exc
    except ServiceUnavailable as exc:
        raise UserError(case_message(str(exc)), UNREACHABLE,
                        hint=_("is Temporal running? start everything with `sinergi dev`"),
                        code="temporal_unavailable") from exc
    except CaseError as exc:
        raise UserError(case_message(str(exc)), UNREACHABLE, code="case_unavailable") from exc


@contextmanager
def observed(settings: Settings, service: str) -> Iterator[None]:
    """Logs and traces of a long-running process named `service` (a `telemetry` service name); the spans
    still buffered are sent when it ends, since the CLI leaves with `os._exit`, which runs no exit hooks."""
    from sinergi.platform import telemetry
    from sinergi.platform.logs import configure

    configure(settings.telemetry.log_level, settings.telemetry.log_format)
    telemetry.setup(settings, service)
    try:
        yield
    finally:
        telemetry.flush()


def serve_until_stopped(settings: Settings, service: str, serve: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """The skeleton of `sinergi worker`, `gateway` and `sandbox`: logs and traces as `service`, then
    `serve(stop)` on a fresh event loop until SIGINT or SIGTERM sets `stop`.

    `serve` returns once it has wound down after `stop`; a `UserError` it raises (a port taken, Temporal out
    of reach) leaves through here to become the exit code, as any command's does.
    """

    import asyncio

    async def until_stopped() -> None:
        stop = asyncio.Event()
        # A signal asks for an orderly stop: `serve` drains its work (workers finish their tasks, servers
        # their requests) instead of being cut off by KeyboardInterrupt.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(stop)

    with observed(settings, service):
        asyncio.run(until_stopped())
