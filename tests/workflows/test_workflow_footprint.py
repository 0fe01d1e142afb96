"""What one cached case costs the worker: the sandbox must not rebuild shared code for every case.

The workflow sandbox re-imports, per workflow, each module it does not pass through. The message models
rebuilt per case cost memory and CPU each time (bench/RESULTS.md "Memory"); `sinergi.worker` passes the
stateless modules through, and this test keeps it so.
"""

from __future__ import annotations

import pytest
from pydantic._internal._model_construction import ModelMetaclass
from workflow_kit import ADULT_DOMESTIC, case_harness, settled


async def test_a_new_case_builds_no_pydantic_model_class_in_the_worker(skipping_env, monkeypatch: pytest.MonkeyPatch):
    built: list[str] = []
    original = ModelMetaclass.__new__

    def counting(mcs, name, bases, namespace, **kwargs):
        built.append(f"{namespace.get('__module__')}.{name}")
        return original(mcs, name, bases, namespace, **kwargs)

    async with case_harness(skipping_env) as h:
        await settled(h, await h.open(**ADULT_DOMESTIC))  # everything imported once, outside the count
        monkeypatch.setattr(ModelMetaclass, "__new__", counting)
        second = await h.open(**ADULT_DOMESTIC)
        await h.send(second, "identification.screening_completed", outcome="presumed_victim")
        await settled(h, second)

    assert built == []
