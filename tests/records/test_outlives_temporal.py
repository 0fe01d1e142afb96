"""A closed case whose workflow is deleted from the server (as the namespace's retention does) is still reported:
`case status`, `timeline`, `why` and `list --closed` answer from the case record, through the real CLI."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from click.testing import CliRunner
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest

from sinergi.cli import cli
from sinergi.domain.ids import workflow_id
from sinergi.records import AsyncCaseRecord, CaseKeys, CaseRecord
from sinergi.testing.cases import SAMPLE_NAME, TEST_KEY, TEST_KEY_ID, harness

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_closed_case_deleted_from_temporal_is_still_reported(dev_env, tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({TEST_KEY_ID: base64.b64encode(TEST_KEY).decode()}))
    url = f"sqlite:///{tmp_path / 'records.db'}"
    record = CaseRecord.open(url, CaseKeys({TEST_KEY_ID: TEST_KEY}, TEST_KEY_ID), migrate_schema=True)
    config = tmp_path / "sinergi.toml"
    try:
        async with harness(dev_env.client, record=AsyncCaseRecord(record)) as h:
            case_id = await h.open()
            await h.send(case_id, "case.closed", reason="victim declined further assistance")
            handle = dev_env.client.get_workflow_handle(workflow_id(case_id))
            await asyncio.wait_for(handle.result(), 30)
            write_config(config, dev_env, h.task_queue, keys, url, tmp_path / "state")
            before = await cli_json(config, "case", "status", case_id)
            # The server deletes a closed workflow once its close task is acked, which it records every 100 ms
            # here (dev_env, tests/conftest.py); a delete sent before that is retried only after 3 s.
            await asyncio.sleep(0.3)
            await dev_env.client.workflow_service.delete_workflow_execution(DeleteWorkflowExecutionRequest(
                namespace=dev_env.client.namespace, workflow_execution=WorkflowExecution(workflow_id=handle.id)))
            await wait_gone(handle)
    finally:
        record.close()

    after = await cli_json(config, "case", "status", case_id)
    assert after == before and after["stage"] == "closed"
    timeline = await cli_json(config, "case", "timeline", case_id)
    assert any("closed" in e["text"] for e in timeline["entries"])
    why = await cli_json(config, "case", "why", case_id)
    assert why["closed"] is True
    listed = await cli_json(config, "case", "list", "--closed")
    assert case_id in [row["case_id"] for row in listed]
    text = await run_cli(config, "case", "status", case_id)
    assert text.exit_code == 0 and "case record" in text.output and case_id in text.output
    unknown = await run_cli(config, "case", "status", "KALSEL-2026-ZZZZZZZZ")
    assert unknown.exit_code == 2
    assert SAMPLE_NAME not in json.dumps(after)  # views carry no person


async def wait_gone(handle) -> None:
    from temporalio.service import RPCError

    for _ in range(600):  # the server deletes in the background
        try:
            await handle.describe()
        except RPCError:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the workflow was not deleted")


async def run_cli(config, *args: str):
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, cli, list(args), env={"SINERGI_CONFIG": str(config)},
                                   catch_exceptions=False)


async def cli_json(config, *args: str):
    result = await run_cli(config, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)



async def test_backfill_writes_what_the_namespace_holds_and_erase_forgets_the_person(dev_env, tmp_path):
    # A worker that keeps no record (as before the record existed): the back-fill writes the cases it left out.
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({TEST_KEY_ID: base64.b64encode(TEST_KEY).decode()}))
    url = f"sqlite:///{tmp_path / 'records.db'}"
    config = tmp_path / "sinergi.toml"
    async with harness(dev_env.client) as h:
        closed = await h.open()
        await h.send(closed, "case.closed", reason="victim declined further assistance")
        await asyncio.wait_for(dev_env.client.get_workflow_handle(workflow_id(closed)).result(), 30)
        running = await h.open()
        # The lead office phoned in that the victim cannot be reached; an operator typed it for the office.
        from sinergi.testing.cases import event
        from sinergi.testing.waiting import eventually

        async def lead() -> str:
            office = (await h.cases.why(running)).lead_office
            assert office is not None
            return office
        lead_office = h.registry.offices[await eventually(lead)]
        await h.cases.send(event(running, "case.contact_lost"), sender=lead_office.sender,
                           entered_by="operator:siti.rahma")
        await h.send(running, "identification.screening_completed", outcome="presumed_victim")
        write_config(config, dev_env, h.task_queue, keys, url, tmp_path / "state")
        query = f"WorkflowType = 'CaseWorkflow' AND TaskQueue = '{h.task_queue}'"
        from sinergi.commands import records_admin
        from sinergi.platform.config import load_settings

        settings = load_settings(config, env={})
        first = await records_admin.backfill(settings, query=query)
        again = await records_admin.backfill(settings, query=query)
        assert first.failed == {} and first.cases == 2 and first.written > 10
        assert again.written == 0 and again.facts == first.facts  # each fact once
        refused = await run_cli(config, "admin", "erase", running, "--requested-by", "the victim", "--yes", "--json")
        assert refused.exit_code == 1 and "open" in refused.output
        erased = await cli_json(config, "admin", "erase", closed, "--requested-by", "the victim", "--yes")
        assert erased["personal_items_deleted"] >= 1 and erased["history_deleted"] is True

    record = CaseRecord.open(url, CaseKeys({TEST_KEY_ID: TEST_KEY}, TEST_KEY_ID))
    try:
        assert record.intake(running).person.full_name == SAMPLE_NAME
        from sinergi.records import PersonalDataErased

        with pytest.raises(PersonalDataErased):
            record.intake(closed)
        with record.engine.connect() as conn:
            import sqlalchemy as sa

            events = conn.execute(sa.text("SELECT type FROM events WHERE case_id = :c"), {"c": closed}).scalars().all()
            typed = conn.execute(sa.text("SELECT sender, entered_by FROM events WHERE case_id = :c AND type = "
                                         "'case.contact_lost'"), {"c": running}).all()
            stage = conn.execute(sa.text("SELECT stage FROM cases WHERE case_id = :c"), {"c": closed}).scalar()
        assert "case.closed" in events and stage == "closed"  # the report facts stay
        assert [tuple(row) for row in typed] == [(lead_office.id, "operator:siti.rahma")]  # who typed it, kept
    finally:
        record.close()


def write_config(config, dev_env, task_queue: str, keys, url: str, state) -> None:
    """The sinergi.toml of a CLI talking to the session's dev server, the worker's queue and the case record."""
    config.write_text(f"""
[temporal]
address = "{dev_env.client.service_client.config.target_host}"
namespace = "{dev_env.client.namespace}"
task_queue = "{task_queue}"
[codec]
key_id = "{TEST_KEY_ID}"
keys_file = "{keys}"
[records]
url = "{url}"
[dev]
state_dir = "{state}"
""")
