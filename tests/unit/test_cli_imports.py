"""The CLI's import graph has no loop: `sinergi.cli` imports `sinergi.commands.*`, never the other way round;
and the CLI starts fast (issue 23): `sinergi --version`, `--help` and each command's `--help` import nothing
heavy, and a command's module is imported only when that command is used.

The command modules share `App`, `common`, `run` and the process skeleton through `sinergi.commands.kit`;
if one of them imported `sinergi.cli` again, the loop (and the imports hidden inside functions it forced)
would be back. Each module is imported in a fresh interpreter so that none works only because another
module happened to be imported first. No test here times anything: what is imported is what costs
(bench/RESULTS.md §11 has the times).
"""

from __future__ import annotations

import ast
import base64
import inspect
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import sinergi.commands
from sinergi.cli import COMMANDS

CLI = "sinergi.cli"
PACKAGE = "sinergi.commands"
COMMAND_MODULES = sorted(f"{PACKAGE}.{m.name}" for m in pkgutil.iter_modules(sinergi.commands.__path__))
SOURCE_ROOT = Path(sinergi.commands.__file__).parents[2]
# What a call of the CLI must not pay for unless its command needs it (each costs tens of milliseconds or more).
HEAVY = ("temporalio", "aiohttp", "sqlalchemy", "alembic", "jinja2", "babel", "opentelemetry", "structlog", "yaml",
         "cryptography", "holidays", "openpyxl")


def _fresh_import(module: str, probe: str) -> str:
    """Import `module` in a new interpreter, then run `probe` there; what it prints."""
    done = subprocess.run([sys.executable, "-c", f"import sys, {module}\n{probe}"], capture_output=True, text=True,
                          cwd=SOURCE_ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_a_command_module_imports_without_the_cli(module: str) -> None:
    assert _fresh_import(module, f"print({CLI!r} in sys.modules)") == "False"


def test_the_kit_leaves_the_heavy_imports_to_the_commands() -> None:
    # `sinergi --version` and `--help` load the kit: the Temporal client and the OpenTelemetry SDK are
    # imported by the commands that use them.
    loaded = _fresh_import(f"{PACKAGE}.kit", "print(sorted(m for m in ('temporalio', 'opentelemetry.sdk', "
                                             "'sinergi.cases', 'sinergi.cli') if m in sys.modules))")
    assert loaded == "[]"


def _loaded_by(*args: str) -> list[str]:
    """Every module loaded by `sinergi ARGS` (run in a fresh interpreter, not exiting it)."""
    probe = ("import json, sys\nfrom sinergi.cli import cli\n"
             f"try:\n    cli.main(args={list(args)!r}, prog_name='sinergi', standalone_mode=False)\n"
             "except SystemExit:\n    pass\n"
             "print(json.dumps(sorted(sys.modules)))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=SOURCE_ROOT, timeout=60,
                          env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _heavy(modules: list[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted({m.split(".")[0] for m in modules if m.split(".")[0] in heavy})


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_import_no_command_and_nothing_heavy(args: list[str]) -> None:
    loaded = _loaded_by(*args)
    assert _heavy(loaded, (*HEAVY, "pydantic", "asyncio")) == []
    # Not one command module: the listing comes from `sinergi.cli.COMMANDS`.
    assert sorted(m for m in loaded if m.startswith(f"{PACKAGE}.")) == [
        f"{PACKAGE}.console", f"{PACKAGE}.kit", f"{PACKAGE}.language", f"{PACKAGE}.root"]


@pytest.mark.parametrize("group", sorted(c.name for c in COMMANDS))
def test_a_commands_help_imports_nothing_heavy(group: str) -> None:
    # `sinergi case --help` lists the case commands from their own module: that module imports what a
    # command needs when the command runs, not when its help is shown.
    loaded = _loaded_by(group, "--help")
    assert _heavy(loaded) == []
    assert not [m for m in loaded if m.startswith(("sinergi.workflows", "sinergi.gateway", "sinergi.records",
                                                   "sinergi.adapters", "sinergi.cases", "sinergi.bootstrap"))]


def test_talking_to_temporal_loads_neither_the_web_stack_nor_the_workflows() -> None:
    # What `case status` imports to connect and ask: the client, the converter and the views, not the
    # gateway, the adapters, the case record or the workflow code (bootstrap imports those where it builds them).
    loaded = _fresh_import("sinergi.commands.case", "import sinergi.commands.session, sinergi.bootstrap, "
                                                    "sinergi.cases, sinergi.platform.temporal, sinergi.commands.views"
                                                    "\nprint(sorted(sys.modules))")
    modules = ast.literal_eval(loaded)
    assert _heavy(modules, ("aiohttp", "sqlalchemy", "alembic", "jinja2", "babel", "yaml", "openpyxl")) == []
    assert not [m for m in modules if m.startswith(("sinergi.workflows.case", "sinergi.gateway", "sinergi.records",
                                                    "sinergi.adapters", "sinergi.activities"))]


def test_asking_a_case_loads_neither_the_event_models_nor_structlog_nor_the_sdk(tmp_path: Path) -> None:
    # `case status`, up to its connection (refused here): the answer's models (`sinergi.domain.view_models`) and
    # the wire's names, not the lifecycle or the 65 event models; structlog only when a line is logged (none
    # here); the OpenTelemetry SDK only when spans are exported (none here).
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"k1": base64.b64encode(bytes(32)).decode()}))
    probe = ("import json, sys\nfrom sinergi.cli import cli\n"
             "try:\n    cli.main(args=['case', 'status', 'KALSEL-2026-7Q2M9XKD'], prog_name='sinergi', "
             "standalone_mode=False)\n"
             "except BaseException as exc:\n    print(type(exc).__name__, exc, file=sys.stderr)\n"
             "print(json.dumps(sorted(sys.modules)))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SINERGI_", "OTEL_"))}
    env |= {"SINERGI_TEMPORAL_ADDRESS": "127.0.0.1:1", "SINERGI_CODEC_KEYS_FILE": str(keys), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=SOURCE_ROOT, timeout=60,
                          env=env)
    assert done.returncode == 0 and "cannot reach Temporal at 127.0.0.1:1" in done.stderr, done.stderr
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"temporalio.client", "sinergi.cases", "sinergi.domain.view_models", "sinergi.workflows.names"} <= set(
        modules)
    assert _heavy(modules, ("structlog", "rich", "aiohttp", "sqlalchemy", "jinja2", "babel", "yaml")) == []
    assert not [m for m in modules if m.startswith(("opentelemetry.sdk", "temporalio.contrib.opentelemetry",
                                                    "temporalio.worker", "sinergi.domain.events",
                                                    "sinergi.domain.lifecycle", "sinergi.domain.views",
                                                    "sinergi.domain.case", "sinergi.workflows.messages"))]


@pytest.mark.parametrize("lazy", COMMANDS, ids=lambda c: c.name)
def test_the_listed_summary_is_the_first_paragraph_of_the_commands_help(lazy) -> None:
    # One source: the command's docstring. The table in `sinergi.cli` only repeats its first paragraph, which
    # is all `sinergi --help` shows of it; a changed docstring fails here until the table says the same.
    command = lazy.load()
    assert command.name == lazy.name
    assert inspect.cleandoc(command.help or "").partition("\n\n")[0] == lazy.summary


def test_the_listing_is_what_click_shows_with_every_command_loaded() -> None:
    # The root's listing, from the table, against click's own listing once every command is imported.
    probe = ("import click, json\nfrom sinergi.cli import cli\n"
             "def listing(format_commands):\n"
             "    ctx = click.Context(cli, info_name='sinergi', terminal_width=110)\n"
             "    formatter = ctx.make_formatter()\n"
             "    format_commands(cli, ctx, formatter)\n"
             "    return formatter.getvalue()\n"
             "lazy = listing(type(cli).format_commands)\n"
             "for name in cli.list_commands(None):\n"
             "    cli.get_command(None, name)\n"
             "print(json.dumps([lazy, listing(click.Group.format_commands)]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=SOURCE_ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    lazy, eager = json.loads(done.stdout)
    assert lazy == eager and all(f"  {c.name} " in lazy for c in COMMANDS), lazy


def test_every_command_is_listed_once_and_runs_under_its_name() -> None:
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names))
    assert {"case", "events", "admin", "report", "export", "dev", "worker", "gateway", "sandbox", "policy",
            "agencies", "completion"} <= set(names)
    loaded = _loaded_by("policy", "show", "--help")
    assert f"{PACKAGE}.registry" in loaded and f"{PACKAGE}.case" not in loaded


def test_completion_of_command_names_imports_no_command() -> None:
    from click.shell_completion import ShellComplete

    from sinergi.cli import cli

    before = set(sys.modules)
    completions = ShellComplete(cli, {}, "sinergi", "_SINERGI_COMPLETE").get_completions([], "ca")
    assert [(c.value, c.help) for c in completions] == [("case", "Open, inspect and steer cases.")]
    assert not {m for m in set(sys.modules) - before if m.startswith(f"{PACKAGE}.case")}


def _imports(module: str) -> set[str]:
    """Every module `module`'s source imports, at the top or inside a function (a deferred import is
    still a loop), as absolute names."""
    spec_path = SOURCE_ROOT / (module.replace(".", "/") + ".py")
    if not spec_path.exists():
        spec_path = SOURCE_ROOT / module.replace(".", "/") / "__init__.py"
    tree = ast.parse(spec_path.read_text("utf-8"))
    package = module if spec_path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            # `from sinergi.commands import views` imports the module `views`, not only the package.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    """The import edges among `sinergi.cli`, `sinergi.commands` and its modules, from `sinergi.cli` on; the
    commands `sinergi.cli` loads lazily (`COMMANDS`) are edges of the cli too."""
    nodes = {CLI, PACKAGE, *COMMAND_MODULES}
    graph: dict[str, set[str]] = {}
    todo = [CLI]
    while todo:
        module = todo.pop()
        if module in graph:
            continue
        graph[module] = {m for m in _imports(module) if m in nodes and m != module}
        if module == CLI:
            graph[module] |= {c.target.partition(":")[0] for c in COMMANDS}
        todo.extend(graph[module])
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop of `graph` as the path around it, or None."""
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> list[str] | None:
        if module in visiting:
            return [*visiting[visiting.index(module):], module]
        if module in done:
            return None
        visiting.append(module)
        for target in sorted(graph.get(module, ())):
            if (loop := visit(target)) is not None:
                return loop
        visiting.pop()
        done.add(module)
        return None

    for start in sorted(graph):
        if (loop := visit(start)) is not None:
            return loop
    return None


def test_the_cli_import_graph_has_no_loop() -> None:
    graph = _graph()
    # The walk sees what it should: the cli reaches every command group through the kit-sharing modules.
    assert {f"{PACKAGE}.{name}" for name in ("admin", "case", "gateway", "processes", "registry", "sandbox",
                                             "kit")} <= set(graph)
    assert all(CLI not in targets for targets in graph.values())
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_loop() -> None:
    # Without this, a finder that never finds anything would pass the test above.
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
