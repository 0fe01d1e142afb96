"""Events that reach a case after its workflow finished: on the real dev server, which answers an update
to a completed workflow as `NOT_FOUND ... completed` (the time-skipping test server does not)."""

from __future__ import annotations

import pytest

from sinergi.cases import EventRefused
from sinergi.domain.ids import workflow_id
from sinergi.testing.cases import ADULT_DOMESTIC, event, harness


async def test_the_event_that_closed_a_finished_case_sent_again_is_a_duplicate_not_a_refusal(dev_env):
    # The first answer can be lost (the caller's timeout while the case applied it): an agency that sends
    # the same event again must hear "duplicate", not that its event was refused.
    async with harness(dev_env.client) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        closing = event(case_id, "case.closed", event_id="ppa-2026-close-1", reason="victim returned home")
        first = await h.cases.send(closing)
        result = await h.client.get_workflow_handle(workflow_id(case_id)).result()  # finished: no validator runs
        assert result["stage"] == "closed" and not first.duplicate

        again = await h.cases.send(closing)
        assert (again.case_id, again.event_id, again.stage, again.duplicate) == (
            case_id, "ppa-2026-close-1", "closed", True)
        with pytest.raises(EventRefused, match="the case is closed"):
            await h.cases.send(event(case_id, "case.closed", event_id="ppa-2026-close-2", reason="a second closure"))
