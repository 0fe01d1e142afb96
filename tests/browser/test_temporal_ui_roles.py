"""The Temporal UI in a real browser, decoding through the gateway with the signed-in user's access token
(issue 24): the same case shows the victim's name to a caseworker and `•••` to an engineer.

A real Temporal dev server with its UI (`--ui-codec-endpoint` at the gateway), a worker, the gateway with the
keys and `[auth]` pointing at a stand-in identity provider's JWKS on loopback (`sinergi.testing.idp`). The UI
under `temporal server start-dev` has no sign-in, so the browser adds the bearer token to its codec calls as the
UI does itself with `TEMPORAL_CODEC_PASS_ACCESS_TOKEN` behind an identity provider (deploy/README.md).
"""

from __future__ import annotations

import socket
from contextlib import nullcontext

import pytest
from aiohttp import web
from temporalio.testing import WorkflowEnvironment

from sinergi.agencies import load_registry
from sinergi.gateway.app import create_app
from sinergi.gateway.auth import Verifiers
from sinergi.gateway.oidc import OidcVerifier
from sinergi.gateway.resources import Resources, TemporalLink
from sinergi.gateway.serve import gateway_runner
from sinergi.platform.binaries import temporal_cli
from sinergi.platform.config import GatewaySettings
from sinergi.platform.temporal import search_attribute_flags
from sinergi.records import AsyncCaseRecord, CaseRecord
from sinergi.testing.cases import SAMPLE_NAME, TEST_CONVERTER, harness, sample_codec
from sinergi.testing.idp import TestIdp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
async def ui(tmp_path_factory):
    """The dev server with its UI, a worker, the gateway behind the identity provider; one case opened."""
    folder = tmp_path_factory.mktemp("ui-roles")
    gateway_port, ui_port = free_port(), free_port()
    ui_origin = f"http://127.0.0.1:{ui_port}"
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(), data_converter=TEST_CONVERTER, ui=True, ui_port=ui_port,
        dev_server_extra_args=[*search_attribute_flags(),
                               "--ui-codec-endpoint", f"http://127.0.0.1:{gateway_port}/codec"])
    record = CaseRecord.open(f"sqlite:///{folder / 'records.db'}", migrate_schema=True)
    try:
        async with TestIdp.serving() as idp, harness(env.client) as worker:
            resources = Resources(verifiers=Verifiers(load_registry("sandbox"), lambda office: "unused"),
                                  temporal=TemporalLink.to(worker.cases), codec=sample_codec(), codec_token=None,
                                  namespace=env.client.namespace, record=AsyncCaseRecord(record),
                                  oidc=OidcVerifier(idp.auth_settings()))
            settings = GatewaySettings(ui_origins=[ui_origin, f"http://localhost:{ui_port}"])
            runner = gateway_runner(create_app(settings, lambda: nullcontext(resources)))
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", gateway_port).start()
            try:
                case_id = await worker.open()
                workflow_id = worker.cases.handle(case_id).id
                yield {"url": f"{ui_origin}/namespaces/{env.client.namespace}/workflows/{workflow_id}",
                       "idp": idp, "record": record, "workflow_id": workflow_id}
                # Leave no case running on the server.
                await worker.cases.handle(case_id).terminate("test over")
            finally:
                await runner.cleanup()
    finally:
        record.close()
        await env.shutdown()


async def shown_to(page, ui, token: str) -> str:
    """The case's page in the UI, its codec calls carrying `token`; the text once the input is decoded."""
    async def with_token(route):
        await route.continue_(headers={**route.request.headers, "authorization": f"Bearer {token}"})

    await page.route("**/codec/**", with_token)
    await page.goto(ui["url"], wait_until="domcontentloaded")
    # The input is shown once the UI has it decoded: the province, plain in every role, says it is there.
    await page.get_by_text("KALSEL").first.wait_for(timeout=30_000)
    return await page.inner_text("body")


async def test_a_caseworker_sees_the_victims_name_in_the_ui(page, ui):
    text = await shown_to(page, ui, ui["idp"].token("siti.rahma", role="caseworker"))
    assert SAMPLE_NAME in text


async def test_an_engineer_sees_the_case_with_the_name_masked(page, ui):
    text = await shown_to(page, ui, ui["idp"].token("eko.dev"))  # no role claim: an engineer, the UI's default
    assert SAMPLE_NAME not in text
    assert "•••" in text
    import sqlalchemy as sa

    # Audited with who, role and the case, though the UI is on another origin than the codec and its requests
    # name no page: each payload names the workflow it is sealed for.
    with ui["record"].engine.connect() as conn:
        audits = {(a.who, a.role, bool(a.masked), a.workflow_id) for a in conn.execute(sa.text(
            "SELECT who, role, masked, workflow_id FROM decode_audits WHERE who = 'oidc:eko.dev'"))}
    assert audits == {("oidc:eko.dev", "engineer", True, ui["workflow_id"])}
