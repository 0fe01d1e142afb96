"""Roles at the codec (issue 24): named operators' tokens from the case record; caseworkers and supervisors see
the victim, engineers the structure only; every decode audited with who and role; an operator's events carry the
verified name whatever the client claimed; an engineer, or a token naming no person, enters nothing."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest
import sqlalchemy as sa
from gateway_kit import CODEC_TOKEN, dev_secrets, resources_for, serve_app
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from sinergi.gateway.resources import TemporalLink
from sinergi.records import AsyncCaseRecord, CaseRecord, Operators, RecordUnavailable
from sinergi.testing.cases import SAMPLE_NAME, harness, sealed_body


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def envelope(source: str, sender: dict | None = None, **claims: str) -> dict:
    event = {"event_id": "evt-roles-1", "case_id": "KALSEL-2026-R0LES000", "type": "case.closed",
             "occurred_at": "2026-12-01T08:00:00+08:00", "source": source, "data": {"reason": "test"}}
    return {"payloads": [{"metadata": {"encoding": b64(b"json/plain")},
                          "data": b64(json.dumps({"event": event, "sender": sender, **claims}).encode())}]}


@pytest.fixture(scope="module")
async def world(dev_env, tmp_path_factory):
    folder = tmp_path_factory.mktemp("codec-roles")
    record = CaseRecord.open(f"sqlite:///{folder / 'records.db'}", migrate_schema=True)
    operators = Operators(record)
    tokens = {name: operators.add(name, role, created_by="test").token
              for name, role in (("siti.rahma", "caseworker"), ("budi.s", "supervisor"), ("eko.dev", "engineer"),
                                 ("gone.person", "caseworker"))}
    operators.revoke("gone.person", revoked_by="test")
    secrets_file, _ = dev_secrets(folder)
    async with harness(dev_env.client) as h:
        resources = dataclasses.replace(resources_for(secrets_file, TemporalLink.to(h.cases)),
                                        record=AsyncCaseRecord(record))
        async with serve_app(resources) as (client, _):
            case_id = await h.open()
            handle = h.cases.handle(case_id)
            started = [e async for e in handle.fetch_history_events()][0].workflow_execution_started_event_attributes
            yield {"client": client, "tokens": tokens, "record": record, "workflow_id": handle.id,
                   "input": json_format.MessageToDict(started.input), "operators": operators,
                   "resources": resources}
    record.close()


async def post(world, action: str, body: dict, token: str | None, workflow_id: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if workflow_id is not None:
        headers["X-Workflow-Id"] = workflow_id
    return await world["client"].post(f"/codec/{action}", data=json.dumps(body), headers=headers)


async def decoded_input(world, token: str) -> bytes:
    response = await post(world, "decode", world["input"], token, world["workflow_id"])
    assert response.status == 200, await response.text()
    return json_format.ParseDict(await response.json(), Payloads()).payloads[0].data


@pytest.mark.parametrize("name", ["siti.rahma", "budi.s"])
async def test_caseworkers_and_supervisors_see_the_victim(world, name):
    assert SAMPLE_NAME.encode() in await decoded_input(world, world["tokens"][name])


async def test_an_engineer_sees_the_structure_with_every_personal_field_masked(world):
    data = json.loads(await decoded_input(world, world["tokens"]["eko.dev"]))
    intake = data.get("intake", data)
    person = intake["person"]
    assert person["full_name"] == "•••"
    assert SAMPLE_NAME not in json.dumps(data, ensure_ascii=False)
    for field in ("date_of_birth", "phone", "address", "identity_document"):
        assert person.get(field) in (None, "•••"), field
    # Structure intact: the place, the source, the consent flags, the situation's codes.
    assert intake["province"] and intake["source"]["agency"] and "data_sharing" in intake["consent"]


@pytest.mark.parametrize("token", ["sinergi_op_" + "x" * 43, "not-a-token", "", "gone.person"])
async def test_an_unknown_revoked_or_missing_token_decodes_nothing(world, token):
    token = world["tokens"].get(token, token)
    response = await post(world, "decode", world["input"], token or None, world["workflow_id"])
    assert response.status == 401
    assert SAMPLE_NAME.encode() not in await response.read()


async def test_every_decode_is_audited_with_who_and_role_and_only_unmasked_ones_are_deliveries(world):
    for name in ("siti.rahma", "eko.dev"):
        await decoded_input(world, world["tokens"][name])
    with world["record"].engine.connect() as conn:
        audits = {(a.who, a.role, a.masked) for a in conn.execute(sa.text(
            "SELECT who, role, masked FROM decode_audits WHERE workflow_id = :w"), {"w": world["workflow_id"]})}
        deliveries = {(d.office, d.how) for d in conn.execute(sa.text("SELECT office, how FROM deliveries"))}
    assert {("siti.rahma", "caseworker", False), ("eko.dev", "engineer", True)} <= audits
    assert ("siti.rahma", "decode") in deliveries
    assert ("eko.dev", "decode") not in deliveries


async def test_an_operators_event_is_sealed_with_the_verified_name_whatever_the_client_claimed(world):
    token = world["tokens"]["siti.rahma"]
    sealed = await post(world, "encode", envelope("operator:someone-else", entered_by="operator:someone-else"), token)
    assert sealed.status == 200
    opened = await post(world, "decode", await sealed.json(), token)
    [payload] = json_format.ParseDict(await opened.json(), Payloads()).payloads
    value = json.loads(payload.data)
    assert value["event"]["source"] == "operator:siti.rahma"
    assert "entered_by" not in value  # an operator's own event: its source names them


async def test_an_event_for_an_office_carries_the_office_as_the_registry_describes_it(world):
    token = world["tokens"]["budi.s"]
    # The laptop claims a wider jurisdiction and no agreement to check, and another operator as the source.
    claimed = {"office": "dinsos_kalsel", "provinces": ["DKI", "KALSEL"], "may_send": None}
    sealed = await post(world, "encode", envelope("operator:someone-else", claimed, entered_by="operator:someone-else"),
                        token)
    assert sealed.status == 200, await sealed.text()
    opened = await post(world, "decode", await sealed.json(), token)
    [payload] = json_format.ParseDict(await opened.json(), Payloads()).payloads
    value = json.loads(payload.data)
    office = world["resources"].verifiers.registry.offices["dinsos_kalsel"]
    assert value["event"]["source"] == "dinsos_kalsel"
    assert value["sender"] == office.sender.model_dump(mode="json")
    assert value["entered_by"] == "operator:budi.s"  # who typed it, as the token says


async def test_an_event_for_an_office_the_registry_does_not_know_is_refused(world):
    response = await post(world, "encode", envelope("x", {"office": "no_such_office"}), world["tokens"]["budi.s"])
    assert response.status == 403 and (await response.json())["error"] == "may_not_enter"


async def test_free_text_and_personal_fields_of_any_payload_are_masked_for_an_engineer(world):
    """Masking keeps structure, not a list of what is personal: a decline's reason, a timeline line, a notice's
    text and a one-word name under a personal key all come back masked; ids, types, stages and times stay."""
    value = {"event": {"event_id": "evt-1", "case_id": "KALSEL-2026-R0LES000", "type": "referral.declined",
                       "occurred_at": "2026-12-01T08:00:00+08:00", "source": "dinsos_kalsel",
                       "data": {"referral_id": "KALSEL-2026-R0LES000-shelter",
                                "reason": "Siti Rahma, HP 0812-555-0199, lives Jl. Merdeka 5"}},
             "timeline": [{"at": "2026-12-01T08:00:00Z", "kind": "referral", "text": "declined by x: Siti Rahma"}],
             "person": {"full_name": "Siti", "phone": "081255501999", "sex": "F"},
             "notice": {"text": "Statutory deadline S1 missed", "rung": 2, "clock": "S1"},
             "nik": "6371010101010001", "contact_number": "081255501999", "email_like": "siti@example.id"}
    sealed = await sealed_body({"payloads": [{"metadata": {"encoding": b64(b"json/plain")},
                                              "data": b64(json.dumps(value).encode())}]})
    response = await post(world, "decode", sealed, world["tokens"]["eko.dev"])
    shown = json.loads(json_format.ParseDict(await response.json(), Payloads()).payloads[0].data)
    text = json.dumps(shown, ensure_ascii=False)
    for secret in ("Siti", "0812", "Merdeka", "6371010101010001", "081255501999", "siti@"):
        assert secret not in text, secret
    assert shown["event"]["type"] == "referral.declined" and shown["event"]["case_id"] == "KALSEL-2026-R0LES000"
    assert shown["event"]["occurred_at"] == "2026-12-01T08:00:00+08:00"
    assert shown["timeline"][0]["kind"] == "referral" and shown["notice"]["rung"] == 2
    assert shown["person"] == {"full_name": "•••", "phone": "•••", "sex": "•••"}  # keys kept, codes masked too


async def test_deeply_nested_json_is_masked_whole_not_a_server_error(world):
    sealed = await sealed_body({"payloads": [{"metadata": {"encoding": b64(b"json/plain")},
                                              "data": b64(b"[" * 100_000 + b"]" * 100_000)}]})
    response = await post(world, "decode", sealed, world["tokens"]["eko.dev"])
    assert response.status == 200


@pytest.mark.parametrize("who", ["eko.dev", "codec-token"])
async def test_an_engineer_or_a_machine_token_enters_no_event(world, who):
    token = CODEC_TOKEN if who == "codec-token" else world["tokens"][who]
    response = await post(world, "encode", envelope("operator:eko.dev"), token)
    assert response.status == 403
    assert (await response.json())["error"] == "may_not_enter"
    # Nor anything else: a sealed page unlock or activity completion is something a worker would act on.
    plain = {"payloads": [{"metadata": {"encoding": b64(b"json/plain")}, "data": b64(b'{"office":"dinsos_kalsel"}')}]}
    assert (await post(world, "encode", plain, token)).status == 403


async def test_a_revoked_operator_is_refused_at_once_for_a_token_not_seen_before(world):
    issued = world["operators"].add("new.person", "caseworker", created_by="test")
    assert (await post(world, "decode", world["input"], issued.token, world["workflow_id"])).status == 200
    world["operators"].revoke("new.person", revoked_by="test")
    rotated = world["operators"].add("other.person", "caseworker", created_by="test")
    world["operators"].rotate("other.person")
    # The old token of a rotated operator, never used before: refused.
    assert (await post(world, "decode", world["input"], rotated.token, world["workflow_id"])).status == 401


async def test_a_record_that_cannot_check_operators_answers_503_not_401(world, dev_env, tmp_path):
    class Down:
        record = None

        async def write(self, facts):
            raise RecordUnavailable("down")

    class Broken(CaseRecord):
        def __init__(self):
            pass

        def _connection(self, *, writes=False):
            raise RecordUnavailable("the record's database is down")

    Down.record = Broken()
    secrets_file, _ = dev_secrets(tmp_path)
    async with harness(dev_env.client) as h:
        resources = dataclasses.replace(resources_for(secrets_file, TemporalLink.to(h.cases)), record=Down())
        async with serve_app(resources) as (client, _):
            response = await client.post("/codec/decode", data=json.dumps(world["input"]), headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {world['tokens']['siti.rahma']}"})
            assert response.status == 503
            assert (await response.json())["error"] == "record_unavailable"


async def test_the_audit_names_the_case_the_payload_is_sealed_for_not_the_one_a_client_claims(world):
    claimed = "case-KALSEL-2026-S0MEOTHER"
    response = await post(world, "decode", world["input"], world["tokens"]["siti.rahma"], claimed)
    assert response.status == 200
    with world["record"].engine.connect() as conn:
        named = {a.workflow_id for a in conn.execute(sa.text(
            "SELECT workflow_id FROM decode_audits WHERE who = 'siti.rahma'"))}
    assert world["workflow_id"] in named
    assert claimed not in named


async def test_a_flood_of_made_up_operator_tokens_stops_before_the_database(world):
    from sinergi.gateway.identities import Identities, NotAdmitted

    asked = []

    class Counting:
        def __init__(self, record):
            self.record = record

    class CountingRecord(CaseRecord):
        def __init__(self, inner):
            self.__dict__.update(inner.__dict__)

        def _connection(self, *, writes=False):
            asked.append(1)
            return super()._connection(writes=writes)

    identities = Identities(record=Counting(CountingRecord(world["record"])), shared_token=None, lookups_per_second=5)
    refused = []
    for n in range(20):
        try:
            await identities.principal(f"sinergi_op_made-up-{n:040d}")
        except NotAdmitted as exc:
            refused.append(exc.reason)
    assert len(asked) == 5  # the rest never reached the database
    assert refused.count("unknown_operator") == 5 and refused.count("too_many_lookups") == 15


async def test_bulk_case_ids_are_derived_for_operators_who_enter_cases_only(world):
    """`POST /codec/case-ids` (a keyless laptop's `case open --bulk`): the key holder's derivation, for a named
    operator who enters cases; an engineer, a revoked or missing token, and malformed or oversized bodies are
    refused before any line is read."""
    from sinergi.bulk import canonical, suffix_of
    from sinergi.platform.remote_codec import CASE_ID_LINES_MAX
    from sinergi.testing.cases import sample_codec

    lines = ['{"province": "KALSEL", "person": {"full_name": "A"}}', '{"person":{"full_name":"B"},"province":"KALSEL"}']
    answer = await post(world, "case-ids", {"lines": lines}, world["tokens"]["siti.rahma"])
    assert answer.status == 200, await answer.text()
    assert (await answer.json())["suffixes"] == [suffix_of(sample_codec().mac(canonical(line))) for line in lines]

    for token, status, code in ((world["tokens"]["eko.dev"], 403, "may_not_enter"),
                                (world["tokens"]["gone.person"], 401, "unauthorized"), (None, 401, "unauthorized")):
        refused = await post(world, "case-ids", {"lines": lines}, token)
        assert (refused.status, (await refused.json())["error"]) == (status, code)
    token = world["tokens"]["budi.s"]
    for body in ({"lines": ["{not json"]}, {"lines": "x"}, {}, {"lines": ["{}"] * (CASE_ID_LINES_MAX + 1)},
                 {"lines": ["[" * 5000]}, {"lines": ['{"a": ' + "9" * 5000 + "}"]}, {"lines": ['{"a": NaN}']},
                 {"lines": ["[1, 2]"]}):
        refused = await post(world, "case-ids", body, token)
        said = await refused.text()
        assert refused.status == 400, (str(body)[:80], said)  # never a 500, whatever a line holds
        assert "{not json" not in said and "set_int_max_str_digits" not in said  # nothing quoted, no Python
