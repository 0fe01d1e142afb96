"""An operator's laptop in production (issue 24): no keys file, `[codec] endpoint` and a named operator's token.

The real `sinergi` program, in a folder with no keys, opens a case, enters its events and reads it through the
gateway's codec endpoint; the gateway (keys, the case record with the operators) and a worker run in the test
process against the session's dev server. The events carry the verified name, never the OS user's; without a
valid token nothing is entered or read; an engineer reads structure and enters nothing.
"""

from __future__ import annotations

import json
from contextlib import nullcontext

import pytest
import sqlalchemy as sa
from aiohttp import web
from cli_kit import Cli, assert_json_error, base_env, intake_dict

from sinergi.agencies import load_registry
from sinergi.gateway.app import create_app
from sinergi.gateway.auth import Verifiers
from sinergi.gateway.resources import Resources, TemporalLink
from sinergi.gateway.serve import gateway_runner
from sinergi.platform.config import GatewaySettings
from sinergi.policies import load_policy
from sinergi.records import AsyncCaseRecord, CaseRecord, Operators
from sinergi.testing.cases import sample_codec


@pytest.fixture(scope="module")
async def gateway(worker, tmp_path_factory):
    """The gateway with the keys and the case record (its operators), on a loopback port."""
    folder = tmp_path_factory.mktemp("operator-gateway")
    record = CaseRecord.open(f"sqlite:///{folder / 'records.db'}", migrate_schema=True)
    operators = Operators(record)
    tokens = {name: operators.add(name, role, created_by="test").token
              for name, role in (("siti.rahma", "caseworker"), ("eko.dev", "engineer"))}
    resources = Resources(verifiers=Verifiers(load_registry("sandbox"), lambda office: "unused"),
                          temporal=TemporalLink.to(worker.cases), codec=sample_codec(), codec_token=None,
                          namespace=worker.cases.client.namespace, record=AsyncCaseRecord(record),
                          policy=load_policy("default"))
    runner = gateway_runner(create_app(GatewaySettings(), lambda: nullcontext(resources)))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield {"endpoint": f"http://{host}:{port}/codec", "tokens": tokens, "record": record}
    finally:
        await runner.cleanup()
        record.close()


@pytest.fixture
def laptop(dev_env, worker, home, gateway) -> Cli:
    """An operator's CLI: the cluster, the gateway's codec endpoint, a token — and no keys file anywhere."""
    env = {**base_env(home / "home"),
           "SINERGI_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
           "SINERGI_TEMPORAL_NAMESPACE": dev_env.client.namespace,
           "SINERGI_TEMPORAL_TASK_QUEUE": worker.task_queue,
           "SINERGI_CODEC_ENDPOINT": gateway["endpoint"],
           # Where a keys file would be read from: it does not exist, and nothing may need it.
           "SINERGI_CODEC_KEYS_FILE": str(home / "no-such-keys.json"),
           "SINERGI_TOKEN": gateway["tokens"]["siti.rahma"]}
    cli = Cli(env, home / "work")
    cli.worker = worker
    return cli


async def test_a_laptop_without_keys_opens_drives_and_reads_a_case_as_the_verified_operator(laptop, home, gateway):
    intake = home / "work" / "intake.json"
    intake.write_text(json.dumps(intake_dict()))
    opened = await laptop("case", "open", str(intake), "--json")
    assert opened.code == 0, opened
    case_id = opened.json()["case_id"]

    entered = await laptop("case", "event", case_id, "identification.screening_completed",
                           "--data", '{"outcome": "presumed_victim"}', "--json")
    assert entered.code == 0, entered
    status = await laptop("case", "status", case_id, "--json")
    assert status.code == 0, status
    assert status.json()["stage"] == "protection"
    why = await laptop("case", "why", case_id)
    assert why.code == 0, why
    timeline = await laptop("case", "timeline", case_id, "--json")
    assert timeline.code == 0, timeline
    assert "Siti Contoh" not in timeline.stdout + status.stdout  # views name no one, as before

    # The case applied it as the operator the gateway verified, never the laptop's OS user.
    assert await entered_by(worker_of(laptop), case_id) == ["operator:siti.rahma"]

    # Every decode the laptop made is audited under the case, with the operator's name and role.
    with gateway["record"].engine.connect() as conn:
        audits = {(a.who, a.role, a.masked) for a in conn.execute(
            sa.text("SELECT who, role, masked FROM decode_audits WHERE case_id = :c"), {"c": case_id})}
    assert ("siti.rahma", "caseworker", False) in audits


async def test_an_event_typed_for_an_office_names_the_office_and_the_verified_operator(laptop, home, gateway):
    """`case event --as`: the office phoned its word in; the case applies it as the office's, under the office's
    agreement, and keeps who typed it — the gateway's verified name, whatever the laptop claims."""
    intake = home / "work" / "intake.json"
    intake.write_text(json.dumps(intake_dict()))
    case_id = (await laptop("case", "open", str(intake), "--json")).json()["case_id"]
    entered = await laptop.with_env(USER="someone-else", LOGNAME="someone-else")(
        "case", "event", case_id, "identification.screening_completed", "--data", '{"outcome": "presumed_victim"}',
        "--as", "bp3mi_kalsel", "--json")
    assert entered.code == 0, entered
    [envelope] = await envelopes(worker_of(laptop), case_id)
    assert (envelope.event.source, envelope.sender.office, envelope.entered_by) == (
        "bp3mi_kalsel", "bp3mi_kalsel", "operator:siti.rahma")
    timeline = (await laptop("case", "timeline", case_id, "--json")).json()
    assert any(e["text"].endswith("by bp3mi_kalsel (entered by operator:siti.rahma)") for e in timeline["entries"])


async def test_a_mass_rescue_is_opened_in_bulk_from_a_laptop_without_keys(laptop, home, gateway):
    """`case open --bulk`: the gateway derives each line's case id under the codec key, so the ids are the ones a
    key holder derives, and the same file opened again (from any laptop) opens nothing twice."""
    from sinergi.bulk import line_case_id, parse_lines
    from sinergi.testing.cases import TEST_KEY

    lines = [json.dumps(intake_dict()) for _ in range(3)]
    rescue = home / "work" / "rescue.jsonl"
    rescue.write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    first = await laptop("case", "open", "--bulk", str(rescue), "--json")
    assert first.code == 0, first
    expected = sorted(line_case_id(intake, line, TEST_KEY) for _n, line, intake in parse_lines(rescue.read_text())[0])
    assert first.json()["opened"] == expected and [r["line"] for r in first.json()["rejected"]] == [2]
    again = await laptop("case", "open", "--bulk", str(rescue), "--json")
    assert (again.json()["opened"], again.json()["existing"]) == ([], expected)

    engineer = laptop.with_env(SINERGI_TOKEN=gateway["tokens"]["eko.dev"])
    assert_json_error(await engineer("case", "open", "--bulk", str(rescue), "--json"), 1, "may_not_enter")


async def test_a_laptop_opens_cases_under_the_deployments_policy_only(laptop, home, gateway):
    """`--policy demo` on a laptop would run a real case's legal deadlines on the demo's seconds, breaching and
    escalating against real offices: the gateway seals a new case under the deployment's policy only."""
    intake = home / "work" / "intake.json"
    intake.write_text(json.dumps(intake_dict()))
    told = assert_json_error(await laptop("case", "open", str(intake), "--policy", "demo", "--json"), 1,
                             "may_not_enter")
    assert "policy (default) only" in told["details"]["reason"], told
    assert (await laptop("case", "open", str(intake), "--policy", "default", "--json")).code == 0


def worker_of(laptop):
    return laptop.worker


async def entered_by(worker, case_id: str) -> list[str]:
    """The sources of the events the case's history took as updates, decoded with the worker's keys."""
    return [envelope.event.source for envelope in await envelopes(worker, case_id)]


async def envelopes(worker, case_id: str) -> list:
    """The event envelopes the case's history took as updates, decoded with the worker's keys."""
    from sinergi.domain.events import EventEnvelope

    handle = worker.cases.handle(case_id)
    converter = worker.cases.client.data_converter
    found = []
    async for event in handle.fetch_history_events():
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            args = event.workflow_execution_update_accepted_event_attributes.accepted_request.input.args
            [envelope] = await converter.decode(args.payloads, [EventEnvelope])
            found.append(envelope)
    return found


@pytest.mark.parametrize("token", [None, "sinergi_op_not-a-real-token-00000000000000000000000", "revoked"])
async def test_without_a_valid_token_the_laptop_neither_enters_nor_reads(laptop, home, gateway, token):
    intake = home / "work" / "intake.json"
    intake.write_text(json.dumps(intake_dict()))
    if token == "revoked":
        issued = Operators(gateway["record"]).add(f"leaver-{home.name[-6:].lower()}", "caseworker",
                                                  created_by="test")
        Operators(gateway["record"]).revoke(issued.operator.name, revoked_by="test")
        token = issued.token
    env = {**laptop.env}
    env.pop("SINERGI_TOKEN")
    if token is not None:
        env["SINERGI_TOKEN"] = token
    cli = Cli(env, home / "work")
    opened = await cli("case", "open", str(intake), "--json")
    assert_json_error(opened, 1, "no_token" if token is None else "not_authorized")
    # Nor can it read a case another operator opened.
    case_id = (await laptop("case", "open", str(intake), "--json")).json()["case_id"]
    assert_json_error(await cli("case", "status", case_id, "--json"), 1,
                      "no_token" if token is None else "not_authorized")


async def test_an_engineer_reads_the_structure_and_enters_nothing(laptop, home, gateway):
    intake = home / "work" / "intake.json"
    intake.write_text(json.dumps(intake_dict()))
    case_id = (await laptop("case", "open", str(intake), "--json")).json()["case_id"]
    engineer = laptop.with_env(SINERGI_TOKEN=gateway["tokens"]["eko.dev"])
    status = await engineer("case", "status", case_id, "--json")
    assert status.code == 0, status
    assert status.json()["case_id"] == case_id
    refused = await engineer("case", "event", case_id, "identification.screening_completed",
                             "--data", '{"outcome": "presumed_victim"}', "--json")
    told = assert_json_error(refused, 1, "may_not_enter")
    assert "engineer" in told["details"]["reason"] and "engineers read cases" in told["hint"]
    assert await entered_by(laptop.worker, case_id) == []
    again = await engineer("case", "open", str(intake), "--json")
    assert_json_error(again, 1, "may_not_enter")


async def test_a_client_going_around_the_gateway_cannot_enter_an_event_under_any_name(laptop, home, worker, dev_env):
    """An insider with Temporal access but no keys sends an operator event unsealed, claiming a name: the
    worker reads no payload a key holder did not seal, so the case rejects the update and applies nothing."""
    from temporalio.client import Client, WorkflowUpdateFailedError

    from sinergi.domain.events import EventEnvelope, parse_event

    intake = home / "work" / "intake.json"
    intake.write_text(json.dumps(intake_dict()))
    case_id = (await laptop("case", "open", str(intake), "--json")).json()["case_id"]
    plain = await Client.connect(dev_env.client.service_client.config.target_host, namespace=dev_env.client.namespace)
    forged = EventEnvelope(event=parse_event({
        "event_id": "forged-1", "case_id": case_id, "type": "identification.screening_completed",
        "occurred_at": "2026-12-01T08:00:00+08:00", "source": "operator:siti.rahma",
        "data": {"outcome": "presumed_victim"}}))
    handle = plain.get_workflow_handle(worker.cases.handle(case_id).id)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update("apply_event", forged.model_dump(mode="json"))
    assert await entered_by(worker, case_id) == []
    status = await laptop("case", "status", case_id, "--json")
    assert status.json()["stage"] == "identification"


async def test_admin_replay_works_from_the_laptop_with_no_keys(laptop, home, gateway):
    intake = home / "work" / "intake.json"
    intake.write_text(json.dumps(intake_dict()))
    case_id = (await laptop("case", "open", str(intake), "--json")).json()["case_id"]
    await laptop("case", "event", case_id, "identification.screening_completed", "--data",
                 '{"outcome": "presumed_victim"}')
    replayed = await laptop("admin", "replay", "--from-namespace", "--query", f"WorkflowId = 'case-{case_id}'",
                            "--json")
    assert replayed.code == 0, replayed
    assert replayed.json()["replayed"] == [f"case-{case_id}"] or f"case-{case_id}" in replayed.stdout
    with gateway["record"].engine.connect() as conn:
        audited = conn.execute(sa.text("SELECT count(*) FROM decode_audits WHERE case_id = :c AND who = 'siti.rahma'"),
                               {"c": case_id}).scalar()
    assert audited > 0
