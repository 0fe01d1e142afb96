"""docs/traceability.md maps every DOMAIN §4 rule and §3 branch to its legal source, code and tests; it is
generated from markers, and this check fails when a marker is missing or the document is stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from sinergi.traceability import BRANCHES, DOC, RULES, check, collect, problems, render

ROOT = Path(__file__).resolve().parents[2]


def test_every_rule_and_branch_is_marked_in_code_and_tests_and_the_document_is_current() -> None:
    assert check(ROOT) == [], "run `python -m sinergi.traceability` after adding the missing markers"


def test_the_document_names_each_rules_legal_source() -> None:
    text = (ROOT / DOC).read_text("utf-8")
    for source in ("UU 21/2007 Art. 52(1)", "UU 12/2022 Art. 41", "PERMA 1/2022 Art. 30(5)", "UU 27/2022 (PDP)",
                   "UU 21/2007 Art. 54(2)"):
        assert source in text
    assert "`sinergi/domain/lifecycle/rehabilitation.py::request_filed`" in text


def _tree(root: Path, *, skip_code: str = "", skip_test: str = "", extra_code: str = "") -> Path:
    """A synthetic checkout marking every rule and branch, except `skip_code` in code and `skip_test` in tests."""
    (root / "sinergi").mkdir(parents=True)
    (root / "tests").mkdir()
    rules = [r for r in RULES if r != skip_code]
    branches = [b for b in BRANCHES if b != skip_code]
    (root / "sinergi" / "rules.py").write_text(
        "def enforce():\n"
        + "".join(f"    # rule: {r}\n" for r in rules)
        + f"    # branch: {', '.join(branches)}; rule: {rules[0]}\n"
        + extra_code
        + "    return None\n")
    marks_rules = [r for r in RULES if r != skip_test]
    marks_branches = [b for b in BRANCHES if b != skip_test]
    (root / "tests" / "test_rules.py").write_text(
        "import pytest\n\n"
        f"pytestmark = pytest.mark.rule({marks_rules[0]!r})\n\n\n"
        "class TestAll:\n"
        + "".join(f"    @pytest.mark.rule({r!r})\n" for r in marks_rules[1:2])
        + "    def test_one(self):\n        pass\n\n\n"
        + "@pytest.mark.parametrize('x', [\n"
        + "".join(f"    pytest.param({i}, marks=pytest.mark.rule({r!r})),\n" for i, r in enumerate(marks_rules[2:]))
        + "])\n"
        + "".join(f"@pytest.mark.branch({b!r})\n" for b in marks_branches)
        + "def test_all(x):\n    pass\n")
    return root


def test_a_complete_synthetic_tree_has_no_problem_and_is_stale_until_generated(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    found = collect(root)
    assert problems(found) == []
    assert found.tests["rule"][RULES[0]] == {"tests/test_rules.py::TestAll::test_one", "tests/test_rules.py::test_all"}
    assert found.code["branch"]["legal_track"] == {"sinergi/rules.py::enforce"}
    assert check(root) == [f"{DOC} is stale: run `python -m sinergi.traceability` and commit the result"]
    (root / DOC).parent.mkdir()
    (root / DOC).write_text(render(found), "utf-8")
    assert check(root) == []
    (root / DOC).write_text(render(found).replace("UU 21/2007", "UU 22/2007"), "utf-8")
    assert check(root) == [f"{DOC} is stale: run `python -m sinergi.traceability` and commit the result"]


@pytest.mark.parametrize("missing", ["T6", "S3", "transfer"])
def test_the_check_fails_when_a_rule_or_branch_has_no_code_marker(tmp_path: Path, missing: str) -> None:
    kind = "branch" if missing in BRANCHES else "rule"
    assert problems(collect(_tree(tmp_path, skip_code=missing))) == [
        f"{kind} {missing}: no code marker (`# {kind}: {missing}` where it is enforced)"]


@pytest.mark.parametrize("missing", ["T21", "unsafe_return"])
def test_the_check_fails_when_a_rule_or_branch_has_no_test_marker(tmp_path: Path, missing: str) -> None:
    kind = "branch" if missing in BRANCHES else "rule"
    assert problems(collect(_tree(tmp_path, skip_test=missing))) == [
        f"{kind} {missing}: no test marker (`@pytest.mark.{kind}(\"{missing}\")` on a test)"]


def test_a_marker_naming_an_unknown_rule_is_a_problem_not_a_silent_typo(tmp_path: Path) -> None:
    root = _tree(tmp_path, extra_code="    # rule: T99\n")
    assert problems(collect(root)) == ["rule T99: unknown id marked in code: sinergi/rules.py::enforce"]


def test_markers_in_strings_are_not_markers(tmp_path: Path) -> None:
    root = _tree(tmp_path, skip_code="T2")
    (root / "sinergi" / "doc.py").write_text('"""# rule: T2 is only mentioned here"""\nTEXT = "# rule: T2"\n')
    assert "rule T2: no code marker (`# rule: T2` where it is enforced)" in problems(collect(root))
