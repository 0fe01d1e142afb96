"""The worker's sandbox imports the workflow module per case loaded: its bytecode must be on disk."""

from __future__ import annotations


def test_the_worker_writes_the_bytecode_of_the_modules_its_sandbox_imports_per_case(monkeypatch) -> None:
    """Without it (PYTHONDONTWRITEBYTECODE, an editable install) every case loaded compiles the source again."""
    import importlib.util
    from pathlib import Path

    from sinergi import worker

    assert worker.sandboxed_modules() == ["sinergi", "sinergi.workflows", "sinergi.workflows.case"]
    source = Path(importlib.util.find_spec("sinergi.workflows.case").origin)
    cached = Path(importlib.util.cache_from_source(str(source)))
    cached.unlink(missing_ok=True)
    monkeypatch.setattr(worker, "_compiled", set())

    worker.write_workflow_bytecode()

    header = cached.read_bytes()[:16]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(header[8:12], "little") == int(source.stat().st_mtime)  # valid for this source
