"""What a delivery's outcome does to the case (sinergi.domain.delivery)."""

from __future__ import annotations

import pytest
from casebook import POLICY, Case, notices

from sinergi.domain import delivery


@pytest.mark.branch("consent_withdrawn")
def test_a_referral_withdrawn_in_flight_tells_its_office_to_restrict_the_data() -> None:
    case = Case()
    shelter = case.to_protection().referral("shelter")
    case.send("consent.withdrawn", scope="data_sharing")
    assert shelter.status in ("held", "cancelled")
    effects = delivery.withdrawn_in_flight(case.s, shelter.referral_id, "kbri_kuala_lumpur", case.now)
    [notice] = notices(effects, "restriction")
    assert notice.office == "kbri_kuala_lumpur"
    assert shelter.referral_id in notice.text and "do not act on it" in notice.text
    assert any("withdrawn while being delivered" in e.text for e in case.s.timeline)


def test_a_delivery_arriving_after_withdrawal_is_recorded_and_restricted() -> None:
    case = Case()
    shelter = case.to_protection().referral("shelter")
    case.send("consent.withdrawn", scope="data_sharing")
    receipt = delivery.DeliveryReceipt(office="kbri_kuala_lumpur", fields=["person.full_name"], delivered_at=case.now)
    effects = delivery.delivered(case.s, POLICY, shelter.referral_id, receipt, case.now)
    assert [d.ref for d in case.s.deliveries if d.office == "kbri_kuala_lumpur"][-1] == shelter.referral_id
    assert shelter.status != "sent", "a withdrawn referral does not come back to life"
    assert notices(effects, "restriction")
