"""The root group of `sinergi`: every error shown as the command line asks — JSON on stdout with `--json`, text
on stderr otherwise — whether a command raised it, click's parser did (a usage error), or it is an exception no
command translated (a bad configuration file, Temporal out of reach). `sinergi.cli` builds its group with it.

It also loads its commands lazily: `sinergi.cli` names each command's module and the summary its listing shows
(`LazyCommand`), and a command's module is imported only when that command runs, shows its own help or is
completed — `sinergi --version` and `--help` import none of them (issue 23: each call of the CLI costs its
imports). tests/unit/test_cli_imports.py holds the summaries to the commands' docstrings.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import click

from sinergi.commands.console import (
    BAD_INPUT,
    REFUSED,
    UNREACHABLE,
    UserError,
    current_output,
    guess_output,
    use_output,
    validation_lines,
)
from sinergi.commands.language import (
    Command,
    Group,
    UnknownLanguage,
    _,
    guess_language,
    speak_through_click,
    use_language,
)


def translate_error(exc: BaseException) -> UserError | None:
    """The user error behind an exception no command translated (a bad config, policy or agencies file,
    invalid input, Temporal out of reach), or None: then it is a bug, and its traceback is shown."""
    from pydantic import ValidationError

    from sinergi.agencies import RegistryError
    from sinergi.platform.config import ConfigError
    from sinergi.policies import PolicyError

    if isinstance(exc, ConfigError | PolicyError | RegistryError):
        return UserError(str(exc), BAD_INPUT, code="invalid_config")
    if isinstance(exc, ValidationError):
        return UserError(_("invalid input:") + "\n  " + "\n  ".join(validation_lines(exc)), BAD_INPUT)
    refused = codec_refusal(exc)
    if refused is not None:
        return refused
    if isinstance(exc, RuntimeError) and "connect" in str(exc).lower():
        return UserError(_("cannot reach Temporal: {error}").format(error=exc), UNREACHABLE,
                         hint=_("is Temporal running? start everything with `sinergi dev`"),
                         code="temporal_unavailable")
    return None


def codec_refusal(exc: BaseException) -> UserError | None:
    """The user error for payloads the gateway's codec endpoint would not code (`[codec] endpoint`: a missing,
    unknown or revoked token, a role that may not enter, the gateway out of reach), however deep the Temporal
    client wrapped it; None if there is none."""
    import sys

    remote = sys.modules.get("sinergi.platform.remote_codec")
    if remote is None:  # never loaded: this run coded nothing through a gateway
        return None
    seen: BaseException | None = exc
    for _depth in range(10):
        if seen is None or isinstance(seen, remote.RemoteCodecError):
            break
        seen = seen.__cause__ or seen.__context__
    if not isinstance(seen, remote.RemoteCodecError):
        return None
    said = {"reason": str(seen)}  # the gateway's own words, for whoever reads the JSON
    if seen.status == 401:
        message = (_("no operator token") if seen.code == "no_token"
                   else _("the gateway refused the operator token"))
        return UserError(message, REFUSED, code="no_token" if seen.code == "no_token" else "not_authorized",
                         details=said,
                         hint=_("set SINERGI_TOKEN (or `token` in your profile) to the token `sinergi admin operator "
                                "add` printed for you; a revoked or rotated token no longer works"))
    if seen.status == 403:
        return UserError(_("the gateway refused this for your role"), REFUSED, code=seen.code, details=said,
                         hint=_("your role may not do this: engineers read cases; caseworkers and supervisors "
                                "enter events"))
    return UserError(_("the gateway's codec endpoint did not answer: {reason}").format(reason=seen), UNREACHABLE,
                     code="codec_unavailable", details=said,
                     hint=_("is the gateway up? `[codec] endpoint` names it"))


@dataclass(frozen=True)
class LazyCommand:
    """A command of the root, not imported yet: `target` is `module:attribute`, `summary` the first paragraph
    of its help, which the root's listing and shell completion show without importing the module."""

    name: str
    target: str
    summary: str

    def load(self) -> click.Command:
        module, _colon, attribute = self.target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command


class Root(Group):
    """The root group: errors shown as the command line asks (JSON on stdout with --json), whether a
    command raised them, click's parser did, or an exception no command translated; its commands are
    `LazyCommand`s, imported when one is used (`lazy=`); everything in the language the command line asks for
    (`sinergi.commands.language`)."""

    def __init__(self, *args: Any, lazy: Iterable[LazyCommand] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = {command.name: command for command in lazy}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(self.lazy[cmd_name].load(), cmd_name)
        return self.commands.get(cmd_name)

    def _listed(self) -> list[tuple[str, click.Command]]:
        """Every command as the listing shows it: the loaded ones as they are, the others from their summary."""
        return [(name, self.commands.get(name) or Command(name, help=self.lazy[name].summary))
                for name in sorted({*self.commands, *self.lazy})]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # As click's own, from the summaries: `sinergi --help` imports no command module.
        listed = [(name, command) for name, command in self._listed() if not command.hidden]
        if not listed:
            return
        limit = formatter.width - 6 - max(len(name) for name, _command in listed)
        with formatter.section(_("Commands")):
            formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in listed])

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: str | None = None) -> None:
        # Completion runs before any context is made: the help it shows (zsh, fish) in the language set around it.
        import click.shell_completion  # noqa: F401 - loaded now, to speak through the catalog as well

        speak_through_click()
        with contextlib.suppress(UnknownLanguage):  # a bad SINERGI_LANG: completion is no place to say so
            use_language(guess_language(os.environ.get("COMP_WORDS", "").split(), os.environ))
        super()._main_shell_completion(ctx_args, prog_name, complete_var)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[Any]:
        # As click's own, from the summaries: completing a command name imports no command module.
        from click.shell_completion import CompletionItem

        results = [CompletionItem(name, help=command.get_short_help_str()) for name, command in self._listed()
                   if name.startswith(incomplete) and not command.hidden]
        results.extend(click.Command.shell_complete(self, ctx, incomplete))
        return results

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        # Before parsing: a usage error must already know where it goes, and in which language.
        use_output(guess_output(args, os.environ))
        try:
            use_language(guess_language(args, os.environ))
        except UnknownLanguage as exc:
            raise UserError(str(exc), BAD_INPUT, code="bad_language") from None
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            if not current_output().as_json:
                raise
            raise _as_user_error(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if not current_output().as_json:
                raise  # as click prints it: the usage line, `try --help`
            raise _as_user_error(exc) from exc
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            translated = translate_error(exc)
            if translated is None:
                raise
            raise translated from exc


def _as_user_error(exc: click.UsageError) -> UserError:
    """A usage error as `--json` shows it, its code naming the kind of mistake."""
    command = exc.ctx.command_path if exc.ctx is not None else "sinergi"
    code = ("missing_argument" if isinstance(exc, click.MissingParameter) else
            "invalid_argument" if isinstance(exc, click.BadParameter) else
            "unknown_option" if isinstance(exc, click.NoSuchOption) else "usage")
    return UserError(exc.format_message(), exc.exit_code, code=code,
                     hint=_("`{command} --help` says what it takes").format(command=command))
