"""The bulkhead between agency kinds: calls to one kind of agency that hang never take the places of
another kind's calls in the same worker (they share the case's task queue by default).

Real HTTP on loopback: the `webhook` adapter posts to a stand-in agency server in which the police offices
hang until released and every other office answers at once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from sinergi.activities import agencies
from sinergi.activities.agencies import AgencyActivities
from sinergi.adapters.base import AdapterContext
from sinergi.adapters.registry import build_adapters
from sinergi.agencies import load_registry
from sinergi.domain.effects import Notice
from sinergi.platform.secrets import ensure_dev_secrets

REGISTRY = load_registry("sandbox")
POLICE = next(o for o in REGISTRY.offices.values() if o.kind == "polri")
LPSK = next(o for o in REGISTRY.offices.values() if o.kind == "lpsk")


class StandIn:
    """Agency server: police offices hold each request until `release` is set; the rest answer 200."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.received: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        office = request.match_info["office"]
        self.received.append(office)
        if REGISTRY.offices[office].kind == "polri":
            await self.release.wait()
        return web.json_response({"ok": True})


@pytest.fixture
async def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(agencies, "BUSY_WAIT", 0.3)
    server = StandIn()
    app = web.Application()
    app.router.add_post("/{office}/{what}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    registry = REGISTRY.served_at(f"http://127.0.0.1:{runner.addresses[0][1]}")
    secrets = tmp_path / "secrets.json"
    ensure_dev_secrets(secrets, registry.offices.values())
    try:
        async with aiohttp.ClientSession() as session:
            adapters = build_adapters(AdapterContext(callback_base_url="http://127.0.0.1:9", session=session,
                                                     secrets_file=secrets), {"webhook"})
            yield server, AgencyActivities(registry, adapters, "http://127.0.0.1:9", concurrency=1)
    finally:
        server.release.set()
        await runner.cleanup()


def notice(office_id: str, n: int) -> Notice:
    office = REGISTRY.offices[office_id]
    return Notice(notice_id=f"N-{office_id}-{n}", case_id="C-1", purpose="escalation", office=office_id,
                  province=office.provinces[0] if office.provinces else "Kalimantan Selatan", text="escalation")


async def send(activities: AgencyActivities, office_id: str, n: int):
    return await ActivityEnvironment().run(activities.deliver_notice, notice(office_id, n))


async def test_a_hanging_agency_holds_only_its_own_places(stand_in) -> None:
    server, activities = stand_in
    hanging = asyncio.create_task(send(activities, POLICE.id, 1))
    while server.received != [POLICE.id]:
        await asyncio.sleep(0.01)

    # Another kind's call goes through at once, while the police call still hangs.
    receipt = await asyncio.wait_for(send(activities, LPSK.id, 1), 5)
    assert receipt.office == LPSK.id
    assert not hanging.done()

    # A second police call finds its kind's one place taken: it gives its slot back, to be retried,
    # and never reaches the agency.
    with pytest.raises(ApplicationError) as refused:
        await asyncio.wait_for(send(activities, POLICE.id, 2), 5)
    assert refused.value.type == "AgencyBusy" and not refused.value.non_retryable
    assert "agency_concurrency" in str(refused.value)
    assert server.received == [POLICE.id, LPSK.id]

    # When the agency answers, the place is free again.
    server.release.set()
    assert (await hanging).office == POLICE.id
    assert (await asyncio.wait_for(send(activities, POLICE.id, 3), 5)).office == POLICE.id
    assert server.received == [POLICE.id, LPSK.id, POLICE.id]


async def test_a_failed_call_gives_its_place_back(stand_in, monkeypatch: pytest.MonkeyPatch) -> None:
    server, activities = stand_in
    gone = POLICE.model_copy(update={"settings": {**POLICE.settings, "base_url": "http://127.0.0.1:9"}})
    monkeypatch.setitem(activities.registry.offices, POLICE.id, gone)
    for n in range(3):  # with one place, a place kept by a failure would refuse the second call as busy
        with pytest.raises(ApplicationError) as failed:
            await send(activities, POLICE.id, n)
        assert failed.value.type == "AgencyUnavailable"
