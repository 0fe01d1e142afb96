"""The CLI's import graph has no loop: `sinergi.cli` imports `sinergi.commands.*`, never the other way round.

The command modules share `App`, `common`, `run` and the process skeleton through `sinergi.commands.kit`;
if one of them imported `sinergi.cli` again, the loop (and the imports hidden inside functions it forced)
would be back. Each module is imported in a fresh interpreter so that none works only because another
module happened to be imported first.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import sinergi.commands

CLI = "sinergi.cli"
PACKAGE = "sinergi.commands"
COMMAND_MODULES = sorted(f"{PACKAGE}.{m.name}" for m in pkgutil.iter_modules(sinergi.commands.__path__))
SOURCE_ROOT = Path(sinergi.commands.__file__).parents[2]


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
    """The import edges among `sinergi.cli`, `sinergi.commands` and its modules, from `sinergi.cli` on."""
    nodes = {CLI, PACKAGE, *COMMAND_MODULES}
    graph: dict[str, set[str]] = {}
    todo = [CLI]
    while todo:
        module = todo.pop()
        if module in graph:
            continue
        graph[module] = {m for m in _imports(module) if m in nodes and m != module}
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
