"""The commands that need no Temporal (`policy show`, `agencies list`), `--help` with examples on every command,
and shell completion, as subprocesses (and the whole command tree in-process, so no command is forgotten)."""

from __future__ import annotations

import asyncio
import os
import pty

import click
from cli_kit import ANSI, SINERGI, Cli, assert_aligned
from click.testing import CliRunner

from sinergi.cli import cli as sinergi_cli

POLICY_KEYS = {"id", "duration_seconds", "starts_on", "stops_on", "kind", "source", "escalation"}


async def test_policy_show_and_agencies_list(offline_cli: Cli):
    policy_json, demo_text, agencies_json, agencies_text, on_terminal = await asyncio.gather(
        offline_cli("policy", "show", "--json"),
        offline_cli("policy", "show", "--policy", "demo"),
        offline_cli("agencies", "list", "--json"),
        offline_cli("agencies", "list"),
        on_a_terminal(offline_cli, "policy", "show", "--policy", "demo"))
    for result in (policy_json, demo_text, agencies_json, agencies_text):
        assert result.code == 0 and result.stderr == "", str(result)
        assert not ANSI.search(result.stdout), "colour codes on a pipe"
    assert_aligned(demo_text.stdout)
    assert_aligned(agencies_text.stdout)
    assert ANSI.search(on_terminal) and "T1" in on_terminal  # colour on a terminal only
    assert_aligned(click.unstyle(on_terminal).replace("\r\n", "\n"))

    clocks = {c["id"]: c for c in policy_json.json()}
    for clock in clocks.values():
        assert set(clock) >= POLICY_KEYS, clock
        assert clock["kind"] in ("statutory", "operational")
    t1 = clocks["T1"]
    assert (t1["duration_seconds"], t1["kind"], t1["source"]) == (7 * 86400, "statutory", "UU 21/2007 Art. 52(1)")
    assert t1["starts_on"] == ["rehabilitation.request_filed"] and t1["escalation"], t1
    assert clocks["T3"]["source"].startswith("UU 13/2006 Art. 29")

    lines = demo_text.stdout.splitlines()
    assert lines[0] == "policy demo" and lines[1].split()[:2] == ["ID", "DURATION"], demo_text.stdout
    t1_row = next(line for line in lines if line.startswith("T1 "))
    assert "45s" in t1_row and "UU 21/2007 Art. 52(1)" in t1_row and "rehabilitation.request_filed" in t1_row
    assert lines[-2:] == ["", "working days (wd): Monday to Friday in the province's zone, weekends only"]

    offices = {o["id"]: o for o in agencies_json.json()}
    lpsk = offices["lpsk"]
    assert lpsk["kind"] == "lpsk" and "protection.lpsk_*" in lpsk["may_send"] and lpsk["receives"], lpsk
    assert all(isinstance(o["settings"], list) for o in offices.values())  # setting names only, never values
    assert agencies_text.stdout.startswith("OFFICE") and "uptd_ppa_kalsel" in agencies_text.stdout


async def on_a_terminal(cli: Cli, *args: str) -> str:
    """stdout of the program writing to a pseudo-terminal, as in an operator's shell."""
    master, child = pty.openpty()
    process = await asyncio.create_subprocess_exec(SINERGI, *args, env=cli.env, cwd=cli.cwd,
                                                   stdin=asyncio.subprocess.DEVNULL, stdout=child,
                                                   stderr=asyncio.subprocess.DEVNULL)
    os.close(child)

    def drain() -> bytes:
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the program closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        out = await asyncio.wait_for(asyncio.to_thread(drain), 60)
        assert await process.wait() == 0
    finally:
        os.close(master)
    return out.decode(errors="replace")


def _commands(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


async def test_help_on_every_command_shows_examples_and_completion_is_offered(offline_cli: Cli):
    case_open, top, completion = await asyncio.gather(
        offline_cli("case", "open", "--help"), offline_cli("--help"),
        offline_cli(env={"_SINERGI_COMPLETE": "bash_source"}))
    assert case_open.code == 0 and "Example" in case_open.stdout and "--bulk" in case_open.stdout, str(case_open)
    assert top.code == 0 and "Example" in top.stdout and "case" in top.stdout, str(top)
    assert completion.code == 0 and "complete" in completion.stdout and "_SINERGI_COMPLETE" in completion.stdout

    # Every command and group, including any added later, in-process (the same click tree the program runs).
    runner = CliRunner()
    missing = []
    for path, command in _commands(sinergi_cli):
        result = runner.invoke(sinergi_cli, [*path, "--help"], prog_name="sinergi")
        assert result.exit_code == 0, (path, result.output)
        if "Example" not in result.output:
            missing.append(" ".join(("sinergi", *path)))
        if not isinstance(command, click.Group):
            assert "--json" in result.output and "--config" in result.output, path
    assert missing == [], f"--help without an example: {missing}"
