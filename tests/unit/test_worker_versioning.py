"""`[temporal] versioning`, `deployment_name` and `build_id`: the version a worker polls as, and how it promotes
itself (README "Upgrading workers"; two builds on a real server: tests/integration/test_worker_versions.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.common import VersioningBehavior

import sinergi
from sinergi.platform.config import ConfigError, load_settings
from sinergi.platform.versioning import Promote, WorkerVersion, code_fingerprint, default_build_id, worker_version
from sinergi.worker import CASE_VERSIONING, WORKFLOWS, deployment_config


def settings_with(tmp_path: Path, toml: str = "", **env: str):
    path = tmp_path / "sinergi.toml"
    path.write_text(toml, encoding="utf-8")
    return load_settings(path, env=env)


def test_by_default_workers_are_versioned_and_promote_a_new_build(tmp_path: Path) -> None:
    settings = settings_with(tmp_path)
    assert settings.temporal.versioning == "auto"
    assert worker_version(settings) == WorkerVersion("sinergi", default_build_id(), Promote.NEW)
    # `sinergi dev` runs the code on the machine, even a build that was current before (a branch checked out again).
    assert worker_version(settings, dev=True).promote is Promote.ALWAYS


def test_the_default_build_id_is_the_version_and_a_fingerprint_of_the_code() -> None:
    build = default_build_id()
    version, _, fingerprint = build.rpartition("-")
    assert version == sinergi.__version__ and len(fingerprint) == 12 and int(fingerprint, 16) >= 0
    assert default_build_id() == build  # the same for every worker of one installation


def test_the_fingerprint_changes_with_the_code_and_ignores_bytecode(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for root, body in ((one, "x = 1\n"), (two, "x = 2\n")):
        (root / "pkg" / "__pycache__").mkdir(parents=True)
        (root / "pkg" / "m.py").write_text(body)
        (root / "pkg" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"differs" + body.encode())
    three = tmp_path / "three"
    (three / "pkg").mkdir(parents=True)
    (three / "pkg" / "m.py").write_text("x = 1\n")
    assert code_fingerprint(one) != code_fingerprint(two)
    assert code_fingerprint(one) == code_fingerprint(three)


@pytest.mark.parametrize(("value", "mode", "promote"), [
    ("true", "auto", Promote.NEW), ("false", "off", None), ("manual", "manual", Promote.NEVER),
    ("auto", "auto", Promote.NEW), ("off", "off", None)])
def test_versioning_from_the_environment(tmp_path: Path, value: str, mode: str, promote: Promote | None) -> None:
    settings = settings_with(tmp_path, SINERGI_TEMPORAL_VERSIONING=value)
    assert settings.temporal.versioning == mode
    version = worker_version(settings)
    assert (version.promote if version else None) is promote


def test_versioning_as_a_toml_boolean_and_explicit_names(tmp_path: Path) -> None:
    assert settings_with(tmp_path, "[temporal]\nversioning = false\n").temporal.versioning == "off"
    settings = settings_with(tmp_path, '[temporal]\nversioning = "manual"\ndeployment_name = "sinergi-kalsel"\n'
                                       'build_id = "2026.12.1"\n')
    assert worker_version(settings) == WorkerVersion("sinergi-kalsel", "2026.12.1", Promote.NEVER)


def test_the_deployment_is_named_after_the_task_queue(tmp_path: Path) -> None:
    # One deployment per case queue: a province's queue in a shared namespace rolls out on its own.
    settings = settings_with(tmp_path, '[temporal]\ntask_queue = "sinergi.kalsel"\n')
    assert worker_version(settings).deployment_name == "sinergi-kalsel"  # "." separates name and build


@pytest.mark.parametrize(("toml", "message"), [
    ('versioning = "sometimes"', "temporal.versioning: expected 'off', 'auto' or 'manual', got 'sometimes'"),
    ('deployment_name = "sinergi.kalsel"', "temporal.deployment_name: expected a name without '.'"),
    ('build_id = ""', "temporal.build_id"),
    ('build_id = " 1.0"', "temporal.build_id: expected a build id without surrounding spaces"),
])
def test_bad_versioning_settings_are_named(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        settings_with(tmp_path, f"[temporal]\n{toml}\n")
    assert message in str(exc.value)


def test_versioned_workers_auto_upgrade_the_case_workflow() -> None:
    assert deployment_config(None) is None
    config = deployment_config(WorkerVersion("sinergi", "0.1.0-abc"))
    assert config.use_worker_versioning and config.version.build_id == "0.1.0-abc"
    assert config.default_versioning_behavior is CASE_VERSIONING is VersioningBehavior.AUTO_UPGRADE
    # Not in `@workflow.defn`: the server fails every task of a workflow that declares a behaviour on an
    # unversioned worker, and `versioning = "off"` (and the time-skipping test server's tests) must keep working.
    for defined in WORKFLOWS:
        assert workflow._Definition.must_from_class(defined).versioning_behavior == VersioningBehavior.UNSPECIFIED
