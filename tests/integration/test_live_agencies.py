"""Cases on the real dev server reaching the sandbox agencies over real HTTP on loopback, through the
`webhook` adapter; the agencies' events come back signed and are applied through `Cases`.

The sandbox's ledger is the agencies' own record: it proves what each office received and how often.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sinergi.agencies import load_registry
from sinergi.domain.agencies import AgencyRegistry
from sinergi.domain.ids import workflow_id
from sinergi.domain.views import CaseStatus
from sinergi.sandbox import SandboxOptions
from sinergi.sandbox.ledger import dotted_fields
from sinergi.testing.live import LiveAgencies, live_agencies
from sinergi.testing.waiting import eventually
from sinergi.worker import build_workers
from sinergi.workflows.case import agency_task_queue

REGISTRY = load_registry("sandbox")
QUIET = SandboxOptions(storylines=False)
BRISK = SandboxOptions(delay=0.02, jitter=0.02, retry_attempts=10, retry_interval=0.1, retry_max_interval=1.0,
                       wait_timeout=20.0, seed=7)
CHILD = {"person": {"date_of_birth": "2012-05-01"}}



def referral(st: CaseStatus, service: str):
    found = [r for r in st.referrals if r.service == service]
    assert found, f"no {service} referral in {[(r.service, r.status) for r in st.referrals]}"
    return found[-1]


def received_referrals(live: LiveAgencies, case_id: str) -> dict[str, str]:
    """referral id → office, for every referral the sandbox agencies acted on for the case."""
    return {e.key: office for office, e in live.sandbox.ledger.entries(kind="referral", case_id=case_id)
            if e.applied}


async def screen_as_presumed_victim(live: LiveAgencies, case_id: str, *, by_operator: bool = False) -> None:
    """The screening outcome, unless the case referred its screening to an agency that will send it."""
    if by_operator or not any(r.service == "screening" for r in (await live.status(case_id)).referrals):
        await live.send(case_id, "identification.screening_completed", source="bp3mi_kalsel",
                        outcome="presumed_victim")


def assert_each_office_got_only_what_it_may_receive(live: LiveAgencies) -> int:
    checked = 0
    for office_id, entry in live.sandbox.ledger.entries():
        sent = set(dotted_fields(entry.body.get("data") or {}))
        outside = sent - set(REGISTRY.offices[office_id].allowed_fields())
        assert not outside, f"{office_id} received {sorted(outside)} outside its agreement ({entry.key})"
        assert entry.applied <= 1
        checked += 1
    return checked


async def test_an_outage_past_the_response_time_opens_a_manual_task_escalates_and_delivers_once_on_recovery(
        dev_env, tmp_path: Path) -> None:
    kbri = REGISTRY.offices["kbri_kuala_lumpur"].model_copy(update={"response_time": "3s"})
    registry = AgencyRegistry(offices={**REGISTRY.offices, "kbri_kuala_lumpur": kbri})
    async with live_agencies(dev_env.client, tmp_path, registry=registry, options=QUIET) as live:
        live.sandbox.outage("kbri_kuala_lumpur")
        started = time.monotonic()
        case_id = await live.open()  # a PMI in Malaysia: protection abroad, from KBRI Kuala Lumpur

        async def degraded() -> CaseStatus:
            st = await live.status(case_id)
            assert any(t.agency == "kbri_kuala_lumpur" for t in st.manual_tasks)
            assert st.escalations and referral(st, "protection_abroad").status == "pending"
            return st

        st = await eventually(degraded)
        degraded_after = time.monotonic() - started
        assert "unreachable" in (referral(st, "protection_abroad").last_error or "")

        async def escalation_notice() -> None:
            notices = live.sandbox.ledger.entries("gugus_tugas_kalsel", "notice", case_id)
            assert any(e.body.get("purpose") == "escalation" for _, e in notices)

        await eventually(escalation_notice)
        live.sandbox.restore("kbri_kuala_lumpur")
        recovered = time.monotonic()

        async def delivered() -> CaseStatus:
            st = await live.status(case_id)
            assert referral(st, "protection_abroad").status == "sent"
            return st

        st = await eventually(delivered, timeout=40)
        delivered_after = time.monotonic() - started
        rid = referral(st, "protection_abroad").referral_id
        (office, entry), = [(o, e) for o, e in live.sandbox.ledger.entries(kind="referral", case_id=case_id)
                            if e.key == rid]
        assert (office, entry.applied, entry.duplicates) == ("kbri_kuala_lumpur", 1, 0)
        assert entry.refused == entry.attempts - 1 >= 2
        assert [d.office for d in st.deliveries if d.purpose == "protection_abroad"] == ["kbri_kuala_lumpur"]
        assert all(e.applied == 1 for _, e in live.sandbox.ledger.entries(kind="referral", case_id=case_id))
        print(f"\noutage: manual task + escalation after {degraded_after:.1f}s (response time 3s); "
              f"{entry.attempts} attempts ({entry.refused} refused); delivered {delivered_after:.1f}s after open, "
              f"{time.monotonic() - recovered:.1f}s after recovery; applied {entry.applied}x")


async def test_a_422_fails_the_referral_visibly_with_the_agencys_reason(dev_env, tmp_path: Path) -> None:
    reason = "passport copy missing: attach the travel document"
    options = SandboxOptions(storylines=False, reject={"kbri_kuala_lumpur": reason})
    async with live_agencies(dev_env.client, tmp_path, options=options) as live:
        case_id = await live.open()

        async def failed() -> CaseStatus:
            st = await live.status(case_id)
            assert referral(st, "protection_abroad").status == "failed"
            return st

        st = await eventually(failed)
        assert reason in referral(st, "protection_abroad").last_error
        assert any(reason in t.reason for t in st.manual_tasks)
        assert any(reason in e.reason for e in st.escalations)
        why = await live.cases.why(case_id)
        assert reason in (why.last_error or "")


async def test_a_kabupaten_banjar_case_reaches_the_banjar_office_not_banjarmasin(dev_env, tmp_path: Path) -> None:
    async with live_agencies(dev_env.client, tmp_path, options=QUIET) as live:
        banjar = await live.open(**CHILD, regency="Kabupaten Banjar")
        banjarmasin = await live.open(**CHILD, regency="Kota Banjarmasin")

        async def routed() -> None:
            assert "uptd_ppa_banjar" in received_referrals(live, banjar).values()
            assert "uptd_ppa_banjarmasin" in received_referrals(live, banjarmasin).values()

        await eventually(routed)
        assert "uptd_ppa_banjarmasin" not in received_referrals(live, banjar).values()
        assert "uptd_ppa_banjar" not in received_referrals(live, banjarmasin).values()


async def test_withdrawn_consent_stops_delivery_and_sends_restriction_notices(dev_env, tmp_path: Path) -> None:
    async with live_agencies(dev_env.client, tmp_path, options=QUIET) as live:
        case_id = await live.open(**CHILD)  # a child abroad: UPTD PPA Banjar and KBRI Kuala Lumpur at once

        async def all_delivered() -> dict[str, str]:
            st = await live.status(case_id)
            received = received_referrals(live, case_id)
            assert {"kbri_kuala_lumpur", "uptd_ppa_banjar"} <= set(received.values())
            # Recorded by the case too, not only received: withdrawal restricts what the case knows it shared.
            assert {r.referral_id for r in st.referrals if r.status == "sent"} == set(received)
            return received

        before = await eventually(all_delivered)
        await live.send(case_id, "consent.withdrawn", source="operator:test", scope="data_sharing")

        async def restricted() -> None:
            notices = live.sandbox.ledger.entries(kind="notice", case_id=case_id)
            # Every office that received the case's data is told, once.
            assert sorted(o for o, e in notices if e.body["purpose"] == "restriction") == sorted(
                set(before.values()))

        await eventually(restricted)
        # Would refer a shelter and the police.
        await screen_as_presumed_victim(live, case_id, by_operator=True)
        st = await live.status(case_id)
        held = {r.service for r in st.referrals if r.status == "held"}
        assert {"shelter", "police_report"} <= held
        assert received_referrals(live, case_id) == before


async def test_the_sandbox_carries_a_case_to_closed_delivering_each_referral_once_within_each_agreement(
        dev_env, tmp_path: Path) -> None:
    started = time.monotonic()
    async with live_agencies(dev_env.client, tmp_path, options=BRISK) as live:
        case_id = await live.open()  # an adult PMI woman back from Malaysia, home in Kabupaten Banjar
        other = await live.open(**CHILD, situation={"location_country": "ID", "is_pmi": False},
                                flags={"sexual_exploitation": True, "urgent_medical": True})
        for case in (case_id, other):
            await screen_as_presumed_victim(live, case)

        async def closed() -> CaseStatus:
            st = await live.status(case_id)
            assert st.closed, f"stage {st.stage}; open: {[(r.service, r.status) for r in st.referrals]}"
            return st

        st = await eventually(closed, timeout=45)
        assert st.closure_reason == "reintegration completed"
        received = received_referrals(live, case_id)
        delivered = [r for r in st.referrals if r.status not in ("pending", "held", "failed")]
        assert {r.referral_id for r in delivered} <= set(received)
        assert all(e.applied == 1 for _, e in live.sandbox.ledger.entries(kind="referral", case_id=case_id))
        offices = assert_each_office_got_only_what_it_may_receive(live)
        refused = [a for a in live.receiver.answered if a[2] in (400, 401, 403, 404)]
        assert not refused, f"the gateway refused agencies' events: {refused}"
        totals = live.sandbox.ledger.snapshot(case_id)["totals"]
        events = [a for a in live.receiver.answered if a[2] == 202]
        print(f"\nlifecycle: closed in {time.monotonic() - started:.1f}s; {len(received)} referrals to "
              f"{len(set(received.values()))} offices, {totals['attempts']} delivery attempts, "
              f"{totals['duplicates']} duplicates; {len(events)} events applied ({offices} messages checked "
              f"against the agreements, {len(live.receiver.statuses(409))} 409s retried)")


async def test_agency_queues_carry_the_configured_rate_limit_and_the_bulkheads_size(dev_env) -> None:
    from sinergi.activities.agencies import AgencyActivities

    activities = AgencyActivities(REGISTRY, {}, "http://127.0.0.1:9", rate_limit=2.5, concurrency=7)
    main, *agencies = build_workers(dev_env.client, "rate-test", activities)
    assert main.config().get("max_task_queue_activities_per_second") is None
    assert {w.config()["max_task_queue_activities_per_second"] for w in agencies} == {2.5}
    assert {w.config()["max_concurrent_activities"] for w in agencies} == {7}
    assert len({w.task_queue for w in agencies}) == len(agencies)


@pytest.mark.parametrize("rate_limit", [None, 50.0], ids=["case-queue", "rate-limited"])
async def test_agency_calls_run_on_the_case_queue_unless_a_rate_limit_gives_each_kind_its_own(
        dev_env, tmp_path: Path, rate_limit: float | None) -> None:
    async with live_agencies(dev_env.client, tmp_path, options=QUIET, rate_limit=rate_limit) as live:
        case_id = await live.open()
        await screen_as_presumed_victim(live, case_id, by_operator=True)

        async def delivered() -> None:
            assert len(received_referrals(live, case_id)) >= 2

        await eventually(delivered, timeout=20)
        history = await dev_env.client.get_workflow_handle(workflow_id(case_id)).fetch_history()
        queues = {(e.activity_task_scheduled_event_attributes.activity_type.name,
                   e.activity_task_scheduled_event_attributes.task_queue.name)
                  for e in history.events if e.HasField("activity_task_scheduled_event_attributes")}
        kinds = {REGISTRY.offices[office].kind for office in received_referrals(live, case_id).values()}
        base = live.cases.task_queue
        # The worker's own questions (where agency calls run, which office) are answered on the case's queue.
        agency_calls = {(name, queue) for name, queue in queues if name not in ("agency_dispatch", "route_referral")}
        assert {queue for name, queue in queues if (name, queue) not in agency_calls} == {base}
        if rate_limit is None:
            assert agency_calls == {("deliver_referral", base)}
        else:
            assert agency_calls >= {("deliver_referral", agency_task_queue(base, kind)) for kind in kinds}
            assert base not in {queue for _, queue in agency_calls}  # not even a call not yet received
        assert all(e.applied == 1 for _, e in live.sandbox.ledger.entries(kind="referral", case_id=case_id))


@pytest.mark.parametrize("raw", ["2.5"])
def test_the_rate_limit_is_configurable_from_the_environment(raw: str) -> None:
    from sinergi.platform.config import load_settings

    assert load_settings(env={"SINERGI_TEMPORAL_AGENCY_RATE_LIMIT": raw}).temporal.agency_rate_limit == 2.5


def test_the_bulkhead_is_configurable_and_never_zero() -> None:
    from sinergi.platform.config import ConfigError, load_settings

    assert load_settings(env={"SINERGI_TEMPORAL_AGENCY_CONCURRENCY": "5"}).temporal.agency_concurrency == 5
    assert load_settings(env={}).temporal.agency_concurrency == 20
    with pytest.raises(ConfigError, match="agency_concurrency"):
        load_settings(env={"SINERGI_TEMPORAL_AGENCY_CONCURRENCY": "0"})
