"""Referrals: the handshake with its S3/S4 deadlines, re-routing on decline, and degraded delivery when
an agency's system is down or refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from workflow_kit import (
    ADULT_DOMESTIC,
    advance,
    breaches,
    case_harness,
    clock,
    eventually,
    ladder,
    notices,
    offices_referred,
    referral,
    to_protection,
    wait_for_notices,
)

from sinergi.cases import EventRefused

ADULT_MAN = {**ADULT_DOMESTIC, "person": {"sex": "M"}}


@pytest.mark.rule("S3")
@pytest.mark.rule("S4")
async def test_referral_handshake_sent_acknowledged_accepted_completed_meets_its_deadlines(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        st = await to_protection(h, case_id)
        shelter = referral(st, "shelter")
        rid = shelter.referral_id
        assert (shelter.status, shelter.agency) == ("sent", "uptd_ppa_banjar")
        s3 = clock(st, "S3", rid)
        assert s3.state == "running" and s3.due_at - s3.started_at == timedelta(hours=24)
        assert shelter.due_at == s3.due_at
        assert any(rid in w and "referral.acknowledged" in w for w in (await h.cases.why(case_id)).waiting_on)
        assert [m.referral_id for m in h.ledger.received("uptd_ppa_banjar")] == [rid]

        await advance(skipping_env, hours=10)
        await h.send(case_id, "referral.acknowledged", referral_id=rid, source="uptd_ppa_banjar")
        st = await h.cases.status(case_id)
        assert referral(st, "shelter").status == "acknowledged"
        assert clock(st, "S3", rid).state == "stopped"
        s4 = clock(st, "S4", rid)
        assert s4.state == "running" and s4.due_at - s4.started_at == timedelta(hours=48)

        await advance(skipping_env, hours=30)
        await h.send(case_id, "referral.accepted", referral_id=rid)
        st = await h.cases.status(case_id)
        assert referral(st, "shelter").status == "accepted" and clock(st, "S4", rid).state == "stopped"
        assert any(rid in w and "referral.completed" in w for w in (await h.cases.why(case_id)).waiting_on)

        await h.send(case_id, "referral.completed", referral_id=rid)
        # Long past every deadline the referral ever had: none fires for a completed referral.
        await advance(skipping_env, days=5)
        st = await h.cases.status(case_id)
        assert referral(st, "shelter").status == "completed" and referral(st, "shelter").due_at is None
        assert [b for b in st.breaches if b.context == rid] == []
        assert [e for e in st.escalations if rid in e.reason] == []


@pytest.mark.rule("S3")
async def test_referral_not_acknowledged_within_24h_warns_and_escalates_the_receiving_agency(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        st = await to_protection(h, case_id)
        rid = referral(st, "shelter").referral_id
        await h.send(case_id, "protection.shelter_admitted", facility="RPSA")  # S2 out of the way
        await advance(skipping_env, hours=23)
        assert breaches(await h.cases.status(case_id), "S3") == []
        await advance(skipping_env, hours=1, minutes=1)
        st = await h.cases.status(case_id)
        shelter_warnings = [b for b in breaches(st, "S3") if b.context == rid]
        assert [(b.kind, b.source) for b in shelter_warnings] == [("warning", "sinergi default (no statute)")]
        shelter_ladder = [e for e in st.escalations if e.clock == "S3" and rid in e.reason]
        assert [(e.rung, e.agency) for e in shelter_ladder] == [(1, "uptd_ppa")]
        await advance(skipping_env, hours=24)
        st = await h.cases.status(case_id)
        shelter_ladder = [e for e in st.escalations if e.clock == "S3" and rid in e.reason]
        assert [(e.rung, e.agency, e.role) for e in shelter_ladder] == [
            (1, "uptd_ppa", "unit head"), (2, "gugus_tugas", "regency task force")]


@pytest.mark.rule("S4")
async def test_acknowledged_referral_neither_accepted_nor_declined_in_48h_warns(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        st = await to_protection(h, case_id)
        rid = referral(st, "shelter").referral_id
        await h.send(case_id, "referral.acknowledged", referral_id=rid)
        await advance(skipping_env, hours=47)
        assert [b for b in breaches(await h.cases.status(case_id), "S4")] == []
        await advance(skipping_env, hours=1, minutes=1)
        st = await h.cases.status(case_id)
        assert [(b.kind, b.context) for b in breaches(st, "S4")] == [("warning", rid)]
        assert ladder(st, "S4") == [(1, "uptd_ppa", "unit head")]
        assert [b for b in breaches(st, "S3") if b.context == rid] == []


@pytest.mark.rule("S3")
async def test_declined_shelter_referral_is_rerouted_down_the_agency_list_then_escalated_never_dropped(
        skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        st = await to_protection(h, case_id)
        first = referral(st, "shelter")
        assert first.agency == "uptd_ppa_banjar"

        await h.send(case_id, "referral.declined", referral_id=first.referral_id, reason="no bed for adults")

        async def rerouted_to(office):
            async def check():
                st = await h.cases.status(case_id)
                latest = referral(st, "shelter")
                assert latest.status == "sent" and latest.agency == office
                return latest
            return await eventually(check)

        second = await rerouted_to("dinsos_kalsel")
        assert second.referral_id != first.referral_id
        timeline = await h.cases.timeline(case_id)
        assert any("no bed for adults" in e.text and "re-routed to dinsos" in e.text for e in timeline.entries)

        await h.send(case_id, "referral.acknowledged", referral_id=second.referral_id)
        await h.send(case_id, "referral.declined", referral_id=second.referral_id, reason="RPTC full")
        third = await rerouted_to("ngo_kalsel")
        await h.send(case_id, "referral.declined", referral_id=third.referral_id, reason="closed for renovation")

        st = await h.cases.status(case_id)
        assert [r.status for r in st.referrals if r.service == "shelter"] == ["declined"] * 3
        [task] = st.manual_tasks
        assert task.agency == "gugus_tugas" and task.referral_id == third.referral_id
        assert "closed for renovation" in task.reason
        assert [(e.clock, e.agency) for e in st.escalations] == [("referral", "gugus_tugas")]
        assert task.id in {t.id for t in (await h.cases.why(case_id)).open_manual_tasks}
        assert offices_referred(h, case_id, "shelter") == ["uptd_ppa_banjar", "dinsos_kalsel", "ngo_kalsel"]

        async def escalated():
            assert [o for o, n in notices(h, case_id, purpose="escalation") if n.clock is None] == [
                "gugus_tugas_kalsel"]
        await eventually(escalated)
        # The declined referrals' acknowledgement deadlines stopped with the decline: none fires later.
        await advance(skipping_env, days=3)
        st = await h.cases.status(case_id)
        declined = {r.referral_id for r in st.referrals if r.service == "shelter"}
        assert [b for b in st.breaches if b.context in declined] == []


async def test_adult_man_is_referred_to_a_social_affairs_shelter_first(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_MAN)
        st = await to_protection(h, case_id)
        assert referral(st, "shelter").agency == "dinsos_kalsel"
        await h.send(case_id, "referral.declined", referral_id=referral(st, "shelter").referral_id)

        async def check():
            assert referral(await h.cases.status(case_id), "shelter", status="sent").agency == "ngo_kalsel"
        await eventually(check)


async def test_referral_event_from_an_office_it_was_not_sent_to_is_refused(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        st = await to_protection(h, case_id)
        rid = referral(st, "shelter").referral_id
        with pytest.raises(EventRefused, match="sent to uptd_ppa_banjar, not dinsos_kalsel"):
            await h.send(case_id, "referral.accepted", referral_id=rid, source="dinsos_kalsel")
        with pytest.raises(EventRefused, match="no referral"):
            await h.send(case_id, "referral.acknowledged", referral_id=f"{case_id}-R999")
        with pytest.raises(EventRefused, match="accepted"):
            await h.send(case_id, "referral.completed", referral_id=rid)


async def test_no_office_in_the_jurisdiction_routes_down_the_list_then_opens_a_manual_task(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC, province="BALI", regency="Kabupaten Badung")
        await h.send(case_id, "identification.screening_completed", outcome="presumed_victim")

        async def check():
            st = await h.cases.status(case_id)
            assert [(r.kind, r.status) for r in st.referrals if r.service == "shelter"] == [
                ("uptd_ppa", "failed"), ("dinsos", "failed"), ("ngo", "failed")]
            assert [t.agency for t in st.manual_tasks if "shelter" in t.reason] == ["gugus_tugas"]
            return st
        st = await eventually(check)
        assert "no ngo office covers BALI" in referral(st, "shelter").last_error
        assert any(e.clock == "referral" for e in st.escalations)


# --- degraded mode ----------------------------------------------------------------------------------


@pytest.mark.rule("S3")
async def test_agency_down_past_its_response_time_opens_a_manual_task_then_delivers_once_when_back(
        skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        h.ledger.down.add("uptd_ppa_banjar")
        await h.send(case_id, "identification.screening_completed", outcome="presumed_victim")
        st = await h.cases.status(case_id)
        rid = referral(st, "shelter").referral_id

        async def attempted():
            assert h.ledger.attempts[rid] >= 2
        await eventually(attempted)
        await advance(skipping_env, hours=23)
        st = await h.cases.status(case_id)
        assert referral(st, "shelter").status == "pending" and st.manual_tasks == []

        await advance(skipping_env, hours=1, minutes=5)
        st = await h.cases.status(case_id)
        [task] = st.manual_tasks
        assert (task.agency, task.referral_id) == ("uptd_ppa_banjar", rid)
        assert "unreachable" in task.reason
        shelter = referral(st, "shelter")
        assert shelter.status == "pending" and "uptd_ppa_banjar unreachable" in shelter.last_error
        assert [(e.clock, e.agency) for e in st.escalations if e.clock == "referral"] == [("referral", "gugus_tugas")]
        why = await h.cases.why(case_id)
        assert [t.id for t in why.open_manual_tasks] == [task.id]
        assert "unreachable" in why.last_error
        assert h.ledger.received("uptd_ppa_banjar") == []

        h.ledger.down.discard("uptd_ppa_banjar")
        await advance(skipping_env, minutes=6)

        async def delivered():
            st = await h.cases.status(case_id)
            assert referral(st, "shelter").status == "sent"
            return st
        st = await eventually(delivered)
        assert [m.referral_id for m in h.ledger.received("uptd_ppa_banjar")].count(rid) == 1
        assert [d.office for d in st.deliveries if d.purpose == "shelter"] == ["uptd_ppa_banjar"]
        assert h.ledger.attempts[rid] > 2  # retried all along, delivered once
        assert clock(st, "S3", rid).state == "running"


async def test_agency_rejecting_a_referral_fails_it_visibly_with_a_manual_task_and_escalation(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        h.ledger.reject["uptd_ppa_banjar"] = "unknown case category 'TPPO-X'"
        await h.send(case_id, "identification.screening_completed", outcome="presumed_victim")

        async def failed():
            st = await h.cases.status(case_id)
            assert referral(st, "shelter").status == "failed"
            return st
        st = await eventually(failed)
        shelter = referral(st, "shelter")
        assert "unknown case category 'TPPO-X'" in shelter.last_error
        assert "uptd_ppa_banjar" in shelter.last_error
        [task] = st.manual_tasks
        assert task.referral_id == shelter.referral_id and "TPPO-X" in task.reason
        assert [(e.clock, e.agency) for e in st.escalations] == [("referral", "gugus_tugas")]
        assert "TPPO-X" in (await h.cases.why(case_id)).last_error
        assert h.ledger.attempts[shelter.referral_id] == 1  # a permanent refusal is not retried
        assert [c for c in st.clocks if c.context == shelter.referral_id] == []
        await wait_for_notices(h, case_id, None, 1)
