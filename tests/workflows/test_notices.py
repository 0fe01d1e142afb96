"""Notices (escalation rungs, restrictions) go out inside the workflow task that decided them, as a local
activity; an agency that does not take one at once gets it as an activity with the delivery retries,
under the same idempotency key, so it acts on the notice once."""

from __future__ import annotations

import json

import pytest
from temporalio.api.enums.v1 import EventType
from workflow_kit import ADULT_DOMESTIC, advance, case_harness, ladder, settled, to_rehabilitation, wait_for_notices

from sinergi.domain.ids import workflow_id
from sinergi.testing.waiting import eventually
from sinergi.workflows.case import agency_task_queue

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
async def test_notices_go_out_inside_the_workflow_task_that_decided_them(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await missed_art52(h, skipping_env)
        assert ladder(await h.cases.status(case_id), "T1") == [(1, "dinsos", "unit head")]
        assert await wait_for_notices(h, case_id, "T1", 1) == [(1, DINSOS)]

        async def each_sent_once_locally():
            local, remote = await notice_calls(h, case_id)
            sent = received(h, case_id)
            assert local == [("completed", 1)] * len(sent) and remote == {}
            return sent

        sent = await eventually(each_sent_once_locally)
        assert len(sent) >= 2  # T1's rung and the operational clocks missed meanwhile
        assert {h.ledger.attempts[notice_id] for notice_id in sent} == {1}
        timeline = (await h.cases.timeline(case_id)).entries
        assert all(any(e.kind == "notice" and notice_id in e.text and "delivered to" in e.text for e in timeline)
                   for notice_id in sent)


@pytest.mark.rule("T1")
async def test_a_notice_the_agency_cannot_take_goes_on_as_an_activity_and_lands_once(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await missed_art52(h, skipping_env, then=lambda: h.ledger.down.add(DINSOS))
        assert ladder(await h.cases.status(case_id), "T1") == [(1, "dinsos", "unit head")]

        async def handed_to_an_activity():
            local, remote = await notice_calls(h, case_id)
            assert ("failed", 1) in local and len(remote) == local.count(("failed", 1))
            assert DINSOS not in {o for o, _ in h.ledger.notices_for_case(case_id)}
            # the offices that were up took theirs at once
            assert local.count(("completed", 1)) == len(received(h, case_id))
            return local, remote

        local, remote = await eventually(handed_to_an_activity)

        h.ledger.down.discard(DINSOS)
        await advance(skipping_env, minutes=10)  # the activity's next try, past its backoff
        assert await wait_for_notices(h, case_id, "T1", 1) == [(1, DINSOS)]

        async def each_landed_once():
            to_dinsos = received(h, case_id, DINSOS)
            assert len(to_dinsos) == len(remote)
            timeline = (await h.cases.timeline(case_id)).entries
            for notice_id in to_dinsos:
                # the local try, the activity's try or tries while down, then the one that landed
                assert h.ledger.attempts[notice_id] >= 3
                assert [e.text for e in timeline if e.kind == "notice" and notice_id in e.text] == [
                    f"notice {notice_id} (escalation) delivered to {DINSOS}"]

        await eventually(each_landed_once)


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
        local, remote = await notice_calls(h, case_id)
        assert ("failed", 1) in local and remote == {}  # no activity took over a refusal
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
async def test_an_agency_too_slow_for_the_local_try_gets_the_notice_from_the_activity_once(skipping_env):
    # No cache: every workflow task replays the whole history, so the timed-out try replays as well.
    async with case_harness(skipping_env, max_cached_workflows=0) as h:
        case_id = await missed_art52(h, skipping_env, then=lambda: h.ledger.slow.update({DINSOS: 3.0}))
        notice_id = f"{case_id}-T1:social-E1"

        async def delivered_by_the_activity():
            local, remote = await notice_calls(h, case_id)
            assert ("failed", 1) in local and remote
            timeline = (await h.cases.timeline(case_id)).entries
            assert [e.text for e in timeline if e.kind == "notice" and notice_id in e.text] == [
                f"notice {notice_id} (escalation) delivered to {DINSOS}"]

        await eventually(delivered_by_the_activity, timeout=30)
        # Twice asked (the local try, cut off at 2 s, then the activity), acted on once: same notice id.
        assert h.ledger.attempts[notice_id] == 2
        assert [n.notice_id for n in h.ledger.notices[DINSOS].values()].count(notice_id) == 1
