"""The Dockerfile, parsed: a pinned slim Python 3.11 base, a non-root user, an entrypoint that imports,
a default command the CLI knows, and no secret in ENV, ARG or the build context."""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from pathlib import Path

import click

from sinergi.cli import cli

REPO = Path(__file__).resolve().parents[2]
SECRET_WORD = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


def instructions(path: Path = REPO / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments and parser directives dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text("utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        instruction, _, args = (pending + stripped).partition(" ")
        out.append((instruction.upper(), args.strip()))
        pending = ""
    return out


STEPS = instructions()
FINAL = STEPS[max(i for i, (op, _) in enumerate(STEPS) if op == "FROM"):]


def args_defaults() -> dict[str, str]:
    return dict(arg.split("=", 1) for op, arg in STEPS if op == "ARG" and "=" in arg)


def test_the_base_image_is_a_pinned_slim_python_311():
    bases = {args_defaults().get(ref.strip("${}"), ref) for op, arg in STEPS if op == "FROM"
             for ref in [arg.split()[0]]}
    bases.discard("build")
    assert bases and all(re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", b) for b in bases), bases


def test_the_final_image_runs_as_a_non_root_user():
    users = [arg for op, arg in FINAL if op == "USER"]
    assert users, "the final stage sets no USER: it would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_the_entrypoint_is_the_sinergi_console_script_and_its_module_imports():
    entrypoint = json.loads(next(arg for op, arg in FINAL if op == "ENTRYPOINT"))
    assert entrypoint == ["sinergi"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    module, _, attribute = scripts[entrypoint[0]].partition(":")
    assert callable(getattr(importlib.import_module(module), attribute))


def test_the_default_command_is_the_worker_and_the_cli_knows_it():
    command = json.loads(next(arg for op, arg in FINAL if op == "CMD"))
    assert command == ["worker"]
    assert cli.get_command(click.Context(cli), command[0]) is not None


def test_no_secret_is_baked_into_env_or_build_args():
    for op, arg in STEPS:
        if op in {"ENV", "ARG"}:
            names = re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", " " + arg) or [arg.split("=")[0]]
            assert not any(SECRET_WORD.search(name) for name in names), f"{op} {arg}"


def test_the_image_is_built_from_the_project_files_only():
    copied = [arg.split()[:-1] for op, arg in STEPS if op == "COPY" and not arg.startswith("--from")]
    assert sorted(src for sources in copied for src in sources) == ["README.md", "hatch_build.py", "pyproject.toml",
                                                                     "sinergi"]
    assert any(op == "RUN" and "pip install" in arg for op, arg in STEPS), "dependencies come from pyproject.toml"


def test_the_build_context_admits_the_project_and_never_a_secret():
    rules = [line.strip() for line in (REPO / ".dockerignore").read_text("utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", "start from nothing and admit the project files"
    assert {"!pyproject.toml", "!README.md", "!hatch_build.py", "!sinergi/"} <= set(rules)
    assert {"**/.sinergi", "**/keys.json", "**/*.env", "**/*.pem", "**/*.key"} <= set(rules)
