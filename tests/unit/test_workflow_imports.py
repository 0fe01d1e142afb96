"""The case workflow's import closure does no I/O: it reaches only the pure domain, its own wire vocabulary
and the Temporal SDK — no configuration, logging, telemetry, HTTP, file formats or the activities that call
agencies (STYLE "Workflow code is pure"; issue 20). Walked in a fresh interpreter, so what other tests
imported before cannot hide a stray import."""

from __future__ import annotations

import json
import subprocess
import sys

ALLOWED_SINERGI = ("sinergi.domain", "sinergi.workflows")
FORBIDDEN = ("aiohttp", "structlog", "opentelemetry", "holidays", "tomllib", "yaml", "click", "sqlalchemy",
             "cryptography", "standardwebhooks")


def _closure(module: str) -> list[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def test_the_workflow_imports_only_the_domain_its_messages_and_the_sdk():
    modules = _closure("sinergi.workflows.case")
    ours = [m for m in modules if m.startswith("sinergi.")]
    assert ours and all(m.startswith(ALLOWED_SINERGI) for m in ours), [m for m in ours
                                                                        if not m.startswith(ALLOWED_SINERGI)]
    assert not [m for m in modules if m.split(".")[0] in FORBIDDEN]


def test_the_walk_would_see_a_stray_import():
    # The walk itself can fail: the activities module does I/O and is outside the closure.
    modules = _closure("sinergi.activities.agencies")
    # (structlog no longer: `sinergi.platform.logs` imports it when a line is logged.)
    assert "sinergi.platform.config" in modules and "opentelemetry" in modules
