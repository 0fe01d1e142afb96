"""Legal traceability: each clock of DOMAIN §4 and each branch of DOMAIN §3, from the law that sets it to
the code that enforces it and the tests that prove it, generated into `docs/traceability.md`.

Markers, not a hand-kept table, so the map cannot drift from the code:

- in code (`sinergi/`), a comment where the rule or branch is enforced: `# rule: T1`, `# rule: T3, T4 — why`,
  `# branch: child`, or both: `# branch: legal_track; rule: T6`;
- in tests (`tests/`), the pytest markers `@pytest.mark.rule("T1")` and `@pytest.mark.branch("child")`
  (on a test, its class, the module's `pytestmark`, or a `pytest.param(marks=...)`).

Legal sources come from the default policy (`sinergi/policies/default.toml`) for clocks and from
`BRANCHES` below for branches. `python -m sinergi.traceability` regenerates the document; `--check`
exits 1 when a rule or branch lacks a code or test marker, a marker names an unknown id, or the
document is stale (tests/unit/test_traceability.py runs the same check).
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sinergi.domain.policy import Policy
from sinergi.policies import load_policy

# DOMAIN §4, in its order.
RULES = ("T1", "T2", "T3", "T4", "T11", "T12", "T6", "T15", "T17", "S1", "S2", "S3", "S4", "T23", "T21")
# DOMAIN §3: the branch, and the source DOMAIN gives for it (tag in brackets, as in DOMAIN).
BRANCHES: dict[str, tuple[str, str]] = {
    "child": ("Child victim: UPTD PPA at once, a companion, return only with a confirmed caregiver and a "
              "best-interest decision, identity never shown",
              "UU 11/2012 (SPPA) Art. 19 [law]; treated as a child while age is uncertain [benchmark]"),
    "abroad": ("Victim abroad: starts with the mission (KBRI/KJRI); return at state cost",
               "UU 21/2007 Art. 54(1) [law]"),
    "domestic": ("Domestic victim: repatriation skipped, or a return within Indonesia", "DOMAIN §3 [default]"),
    "foreign_national": ("Foreign national in Indonesia: protection and return through their own mission; "
                         "the case ends at hand-over", "UU 21/2007 Art. 54(2) [law]"),
    "consent_withdrawn": ("Consent refused or withdrawn: outbound referrals and data sharing stop at once; "
                          "mandated police processes continue; re-contact offered",
                          "assistance is voluntary [benchmark]; UU 21/2007 Art. 26 [law]; UU 27/2022 (PDP) [law]"),
    "unsafe_return": ("Return unsafe: no return; protection where the victim is",
                      "OSCE/ODIHR guiding principles on the return of trafficked persons (2014) [benchmark]"),
    "contact_lost": ("Contact lost: victim-dependent clocks pause, escalation, closure after the configured "
                     "attempts", "IOM Handbook on Direct Assistance (2007); configurable [default]"),
    "death": ("Death: assistance closes; the legal track continues for the heirs",
              "heirs keep restitution rights (DOMAIN §3) [law]"),
    "crisis_reopens_protection": ("Re-trafficking risk or crisis at follow-up re-opens protection",
                                  "DOMAIN §3 [default]"),
    "transfer": ("Transfer to another province's office: referrals go to the new jurisdiction",
                 "DOMAIN §3 [default]"),
    "legal_track": ("Legal track (investigation, prosecution, restitution) runs in parallel and can outlive "
                    "the case", "UU 21/2007 Art. 26 [law]; PERMA 1/2022 Art. 30(5) [law]"),
}
DOC = Path("docs/traceability.md")
_CODE_MARKER = re.compile(r"#\s*(rule|branch)s?:\s*([A-Za-z0-9_]+(?:\s*,\s*[A-Za-z0-9_]+)*)")
_KINDS = ("rule", "branch")


@dataclass
class Traceability:
    """Where each rule and branch id is marked: `code[kind][id]` and `tests[kind][id]` hold locations."""

    code: dict[str, dict[str, set[str]]] = field(default_factory=lambda: {k: defaultdict(set) for k in _KINDS})
    tests: dict[str, dict[str, set[str]]] = field(default_factory=lambda: {k: defaultdict(set) for k in _KINDS})


def collect(root: Path, code_dir: str = "sinergi", tests_dir: str = "tests") -> Traceability:
    found = Traceability()
    for path in sorted((root / code_dir).rglob("*.py")):
        for kind, ident, where in marked_code(path, path.relative_to(root).as_posix()):
            found.code[kind][ident].add(where)
    for path in sorted((root / tests_dir).rglob("*.py")):
        for kind, ident, where in marked_tests(path, path.relative_to(root).as_posix()):
            found.tests[kind][ident].add(where)
    return found


def marked_code(path: Path, name: str):
    """(kind, id, "file::enclosing.definition") for every marker comment in a source file."""
    source = path.read_text("utf-8")
    tree = ast.parse(source)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        # One comment may carry both kinds: "# branch: legal_track; rule: T6".
        for part in token.string.split(";"):
            match = _CODE_MARKER.search(part if part.lstrip().startswith("#") else "#" + part)
            if match:
                where = f"{name}::{_enclosing(tree, token.start[0])}"
                for ident in re.split(r"\s*,\s*", match.group(2).strip()):
                    yield match.group(1), ident, where


def _enclosing(tree: ast.Module, line: int) -> str:
    """The qualified name of the innermost def or class around `line`, else the module-level name assigned."""
    names: list[str] = []
    body: list[ast.stmt] = tree.body
    while True:
        around = [n for n in body if n.lineno <= line <= (n.end_lineno or n.lineno)
                  or (n.lineno == line + 1)]  # a comment just above a statement belongs to it
        defs = [n for n in around if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
        if defs:
            names.append(defs[0].name)
            body = defs[0].body
            continue
        if not names:
            targets = [t.id for n in around if isinstance(n, ast.Assign | ast.AnnAssign)
                       for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)]
            return targets[0] if targets else "<module>"
        return ".".join(names)


def marked_tests(path: Path, name: str):
    """(kind, id, "file::Class::test") for every constant `pytest.mark.rule(...)`/`branch(...)` that applies to a
    test: on it, on its class, in the module's `pytestmark`, or in a `pytest.param(marks=...)` of it."""
    tree = ast.parse(path.read_text("utf-8"))
    module_marks = [m for node in tree.body if isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets)
                    for m in _marks(node.value)]

    def tests_in(body: list[ast.stmt], prefix: str, inherited: list[tuple[str, str]]):
        for node in body:
            if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                marks = inherited + [m for d in node.decorator_list for m in _marks(d)]
                yield from tests_in(node.body, f"{prefix}{node.name}::", marks)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                for kind, ident in inherited + [m for d in node.decorator_list for m in _marks(d)]:
                    yield kind, ident, f"{name}::{prefix}{node.name}"

    yield from tests_in(tree.body, "", module_marks)


def _marks(node: ast.AST) -> list[tuple[str, str]]:
    """Every `<...>.mark.rule("X")` / `.mark.branch("x")` call with a constant argument inside `node`."""
    out = []
    for call in ast.walk(node):
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _KINDS
                and isinstance(call.func.value, ast.Attribute) and call.func.value.attr == "mark"
                and call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)):
            out.append((call.func.attr, call.args[0].value))
    return out


def problems(found: Traceability) -> list[str]:
    """What keeps the map from being complete: a missing marker, or a marker naming an unknown id."""
    out = []
    known = {"rule": set(RULES), "branch": set(BRANCHES)}
    for kind, ids in (("rule", RULES), ("branch", tuple(BRANCHES))):
        for ident in ids:
            if not found.code[kind].get(ident):
                out.append(f"{kind} {ident}: no code marker (`# {kind}: {ident}` where it is enforced)")
            if not found.tests[kind].get(ident):
                out.append(f"{kind} {ident}: no test marker (`@pytest.mark.{kind}(\"{ident}\")` on a test)")
        for where, marked in (("code", found.code[kind]), ("tests", found.tests[kind])):
            for ident in sorted(set(marked) - known[kind]):
                out.append(f"{kind} {ident}: unknown id marked in {where}: {', '.join(sorted(marked[ident]))}")
    return out


def render(found: Traceability, policy: Policy | None = None) -> str:
    policy = policy or load_policy("default")
    lines = [
        "# Legal traceability",
        "",
        "Every clock of DOMAIN §4 and every branch of DOMAIN §3: its legal source, the code that enforces it, the "
        "tests that prove it. Generated from markers — `# rule: T1` / `# branch: child` comments in `sinergi/`, "
        "`@pytest.mark.rule(...)` / `@pytest.mark.branch(...)` in `tests/` — by `python -m sinergi.traceability`; "
        "do not edit by hand. `tests/unit/test_traceability.py` fails when a rule or branch lacks a marker or "
        "this file is stale.",
        "",
        "## Clocks (DOMAIN §4)",
        "",
        "| rule | clock | duration | legal source | tag | kind | code | tests |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for ident in RULES:
        rule = policy.clock(ident)
        durations = ", ".join(d.text for d in rule.durations)
        lines.append(f"| [{ident}](#{ident.lower()}) | {rule.title} | {durations} | {rule.source} | {rule.tag} | "
                     f"{rule.kind} | {len(found.code['rule'].get(ident, ()))} | "
                     f"{len(found.tests['rule'].get(ident, ()))} |")
    lines += ["", "## Branches (DOMAIN §3)", "", "| branch | what | legal source | code | tests |",
              "|---|---|---|---|---|"]
    for ident, (what, source) in BRANCHES.items():
        lines.append(f"| [{ident}](#{ident}) | {what} | {source} | "
                     f"{len(found.code['branch'].get(ident, ()))} | {len(found.tests['branch'].get(ident, ()))} |")
    lines += ["", "## Clocks in detail", ""]
    for ident in RULES:
        rule = policy.clock(ident)
        lines += [f"### {ident}", "", f"{rule.title} — **{rule.source}** ({rule.tag}, {rule.kind})", ""]
        lines += _locations(found, "rule", ident)
    lines += ["## Branches in detail", ""]
    for ident, (what, source) in BRANCHES.items():
        lines += [f"### {ident}", "", f"{what} — **{source}**", ""]
        lines += _locations(found, "branch", ident)
    return "\n".join(lines).rstrip() + "\n"


def _locations(found: Traceability, kind: str, ident: str) -> list[str]:
    code = sorted(found.code[kind].get(ident, ())) or ["(none)"]
    tests = sorted(found.tests[kind].get(ident, ())) or ["(none)"]
    return (["Code:", "", *[f"- `{c}`" for c in code], "", "Tests:", "", *[f"- `{t}`" for t in tests], ""])


def check(root: Path, doc: Path = DOC) -> list[str]:
    """Everything wrong with the map under `root`, staleness of `root / doc` included."""
    found = collect(root)
    out = problems(found)
    target = root / doc
    if not target.is_file() or target.read_text("utf-8") != render(found):
        out.append(f"{doc} is stale: run `python -m sinergi.traceability` and commit the result")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sinergi.traceability", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the source checkout (default: the one this module is in)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 on any problem")
    args = parser.parse_args(argv)
    if args.check:
        found_problems = check(args.root)
        for problem in found_problems:
            print(problem, file=sys.stderr)
        return 1 if found_problems else 0
    found = collect(args.root)
    (args.root / DOC).parent.mkdir(parents=True, exist_ok=True)
    (args.root / DOC).write_text(render(found), "utf-8")
    for problem in problems(found):
        print(problem, file=sys.stderr)
    print(f"wrote {args.root / DOC}")
    return 1 if problems(found) else 0


if __name__ == "__main__":
    sys.exit(main())
