"""`sinergi completion bash|zsh|fish`: the shell completion script, printed (click's own completion)."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from sinergi.commands.console import print_json
from sinergi.commands.kit import App, common
from sinergi.commands.language import Command

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_SINERGI_COMPLETE"


@click.command(cls=Command)
@click.argument("shell", type=click.Choice(SHELLS))
@common
def completion(app: App, shell: str) -> None:
    """Print the completion script for SHELL: commands, options, event types.

    \b
    Examples:
      bash:  echo 'eval "$(sinergi completion bash)"' >> ~/.bashrc
      zsh:   echo 'eval "$(sinergi completion zsh)"' >> ~/.zshrc
      fish:  sinergi completion fish > ~/.config/fish/completions/sinergi.fish
    """
    root = click.get_current_context().find_root()
    script_class = get_completion_class(shell)
    if script_class is None:  # click knows the three it is offered
        raise AssertionError(f"click has no completion for {shell}")
    # Completion runs `sinergi` itself with _SINERGI_COMPLETE set: the script must name the installed program.
    script = script_class(root.command, {}, "sinergi", COMPLETE_VAR).source()
    if app.as_json:
        print_json({"shell": shell, "script": script})
    else:
        click.echo(script)
