"""Notices (escalation rungs, restrictions) go out as activities, each result an event of its own (no local
activity in a case begun on today's code: `PATCH_NO_LOCAL_ACTIVITIES`); an agency that does not take one gets
it again with the delivery retries, under the same idempotency key, so it acts on the notice once. Cases begun
on older code sent them as local activities first: their histories replay (tests/replay, `*_notices_locally`)."""

from __future__ import annotations

import json

import pytest
from temporalio.api.enums.v1 import EventType
from workflow_kit import ADULT_DOMESTIC, advance, case_harness, ladder, settled, to_rehabilitation, wait_for_notices

from sinergi.domain.ids import workflow_id
from sinergi.testing.waiting import eventually
from sinergi.workflows.case import NOTICE_LOCAL_TIMEOUT, agency_task_queue

DINSOS = "dinsos_kalsel"


async def missed_art52(h, env, then=lambda: None) -> str:
    """A case whose T1 (UU 21/2007 Art. 52(1)) deadline has just been missed: rung 1 goes to dinsos.
    `then` runs once the referrals are delivered, before the deadline passes."""
    case_id = await h.open(**ADULT_DOMESTIC)
    await to_rehabilitation(h, case_id)
    await h.send(case_id, "rehabilitation.request_filed", services=["social"], filed_by="victim")
    await settled(h, case_id)
    then()
    await advance(env, days=7, minutes=1)
    return case_id


async def notice_calls(h, case_id: str) -> tuple[list[tuple[str, int]], list[int]]:
    """The case's notice calls in history: local ones (with their outcome: the attempt's marker says it
    failed when it has no result), and the event ids of activity ones."""
    history = await h.client.get_workflow_handle(workflow_id(case_id)).fetch_history()
    local, remote = [], {}
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = e.marker_recorded_event_attributes
            if marker.marker_name == "core_local_activity":
                data = json.loads(marker.details["data"].payloads[0].data)
                if data["activity_type"] == "deliver_notice":
                    local.append(("completed" if "result" in marker.details else "failed", data["attempt"]))
        elif (e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
              and e.activity_task_scheduled_event_attributes.activity_type.name == "deliver_notice"):
            remote[e.event_id] = e.activity_task_scheduled_event_attributes.task_queue.name
    return local, remote


def received(h, case_id: str, office: str | None = None) -> list[str]:
    return [n.notice_id for o, n in h.ledger.notices_for_case(case_id) if office is None or o == office]


@pytest.mark.rule("T1")
async def test_notices_go_out_as_activities_each_result_an_event_of_its_own(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await missed_art52(h, skipping_env)
        assert ladder(await h.cases.status(case_id), "T1") == [(1, "dinsos", "unit head")]
        assert await wait_for_notices(h, case_id, "T1", 1) == [(1, DINSOS)]

        async def each_sent_once_by_an_activity():
            local, remote = await notice_calls(h, case_id)
            sent = received(h, case_id)
            assert local == [] and len(remote) == len(sent)
            return sent

        sent = await eventually(each_sent_once_by_an_activity)
        assert len(sent) >= 2  # T1's rung and the operational clocks missed meanwhile
        assert {h.ledger.attempts[notice_id] for notice_id in sent} == {1}
        timeline = (await h.cases.timeline(case_id)).entries
        assert all(any(e.kind == "notice" and notice_id in e.text and "delivered to" in e.text for e in timeline)
                   for notice_id in sent)
        history = await h.client.get_workflow_handle(workflow_id(case_id)).fetch_history()
        assert not [e for e in history.events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                    and e.marker_recorded_event_attributes.marker_name == "core_local_activity"], \
            "a case begun on today's code runs no local activity (routing, dispatch, notices)"


@pytest.mark.rule("T1")
async def test_a_notice_the_agency_cannot_take_is_retried_and_lands_once(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await missed_art52(h, skipping_env, then=lambda: h.ledger.down.add(DINSOS))
        assert ladder(await h.cases.status(case_id), "T1") == [(1, "dinsos", "unit head")]

        async def tried_while_down():
            local, remote = await notice_calls(h, case_id)
            assert local == [] and remote
            assert DINSOS not in {o for o, _ in h.ledger.notices_for_case(case_id)}
            return remote

        remote = await eventually(tried_while_down)

        h.ledger.down.discard(DINSOS)
        await advance(skipping_env, minutes=10)  # the activity's next try, past its backoff
        assert await wait_for_notices(h, case_id, "T1", 1) == [(1, DINSOS)]

        async def each_landed_once():
            to_dinsos = received(h, case_id, DINSOS)
            assert to_dinsos
            timeline = (await h.cases.timeline(case_id)).entries
            for notice_id in to_dinsos:
                # the tries while down, then the one that landed: one activity, one delivery in the case
                assert h.ledger.attempts[notice_id] >= 2
                assert [e.text for e in timeline if e.kind == "notice" and notice_id in e.text] == [
                    f"notice {notice_id} (escalation) delivered to {DINSOS}"]

        await eventually(each_landed_once)
        del remote


@pytest.mark.rule("T1")
async def test_a_refused_notice_is_final_and_not_sent_again(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await missed_art52(h, skipping_env, then=lambda: h.ledger.reject.update({DINSOS: "unit unknown"}))
        notice_id = f"{case_id}-T1:social-E1"

        async def refused():
            timeline = (await h.cases.timeline(case_id)).entries
            [text] = [e.text for e in timeline if e.kind == "notice" and notice_id in e.text]
            assert "refused" in text and "unit unknown" in text

        await eventually(refused)
        await advance(skipping_env, minutes=10)  # past any backoff: a refusal is not tried again
        assert h.ledger.attempts[notice_id] == 1


@pytest.mark.rule("T1")
async def test_with_a_rate_limit_notices_keep_to_their_agency_queue(skipping_env):
    async with case_harness(skipping_env, rate_limit=100.0) as h:
        case_id = await missed_art52(h, skipping_env)
        assert await wait_for_notices(h, case_id, "T1", 1) == [(1, DINSOS)]

        async def each_an_activity():
            local, remote = await notice_calls(h, case_id)
            assert local == [] and len(remote) == len(received(h, case_id))
            return remote

        remote = await eventually(each_an_activity)
        assert all(queue.startswith(f"{h.task_queue}-agency-") for queue in remote.values())
        assert agency_task_queue(h.task_queue, "dinsos") in remote.values()


@pytest.mark.rule("T1")
async def test_a_slow_agency_gets_the_notice_from_the_activity_once(skipping_env):
    # No cache: every workflow task replays the whole history, so the slow call replays as well.
    # Slower than a local activity's timeout (the notices of older code), and no slower: each of the office's
    # calls holds the time-skipping server's clock for that long.
    slow = NOTICE_LOCAL_TIMEOUT.total_seconds() + 0.5
    async with case_harness(skipping_env, max_cached_workflows=0) as h:
        case_id = await missed_art52(h, skipping_env, then=lambda: h.ledger.slow.update({DINSOS: slow}))
        notice_id = f"{case_id}-T1:social-E1"

        async def delivered_by_the_activity():
            local, remote = await notice_calls(h, case_id)
            assert local == [] and remote
            timeline = (await h.cases.timeline(case_id)).entries
            assert [e.text for e in timeline if e.kind == "notice" and notice_id in e.text] == [
                f"notice {notice_id} (escalation) delivered to {DINSOS}"]

        await eventually(delivered_by_the_activity, timeout=30)
        # Asked once (the activity waits out the slow agency), acted on once.
        assert h.ledger.attempts[notice_id] == 1
        assert [n.notice_id for n in h.ledger.notices[DINSOS].values()].count(notice_id) == 1
