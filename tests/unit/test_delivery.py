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


# --- an office answering before its delivery is confirmed (rules v3) ----------------------------------


def routed_not_confirmed(case: Case, service: str = "screening"):
    """The referral's office is known and the call is under way: no receipt yet."""
    referral = case.referral(service)
    delivery.routed(case.s, referral.referral_id, "bp3mi_kalsel")
    assert referral.status == "pending"
    return referral


@pytest.mark.rule("S3")
def test_an_office_answering_before_its_delivery_is_confirmed_is_taken_as_having_received_it() -> None:
    case = Case()
    screening = routed_not_confirmed(case)

    case.send("referral.acknowledged", source="bp3mi_kalsel", referral_id=screening.referral_id)

    assert screening.status == "acknowledged" and screening.sent_at == case.now
    [s3] = [c for c in case.clocks_of("S3") if c.context == screening.referral_id]
    assert s3.state == "stopped", "its answer met the acknowledgement deadline"
    assert any(c.state == "running" and c.context == screening.referral_id for c in case.clocks_of("S4"))
    assert any("before its delivery was confirmed" in e.text for e in case.s.timeline)

    # The call returns afterwards: the delivery is recorded, nothing is restricted or started again.
    receipt = delivery.DeliveryReceipt(office="bp3mi_kalsel", fields=["person.full_name"],
                                       delivered_at=case.later(seconds=1))
    effects = delivery.delivered(case.s, POLICY, screening.referral_id, receipt, case.now)
    assert effects == []
    assert screening.status == "acknowledged"
    assert [d.ref for d in case.s.deliveries if d.office == "bp3mi_kalsel"] == [screening.referral_id]
    assert len([c for c in case.clocks_of("S3") if c.context == screening.referral_id]) == 1


def test_a_decline_before_the_delivery_is_confirmed_reroutes_and_the_late_receipt_restricts_nothing() -> None:
    case = Case()
    screening = routed_not_confirmed(case)
    case.send("referral.declined", source="bp3mi_kalsel", referral_id=screening.referral_id, reason="no officer")
    assert screening.status == "declined"
    receipt = delivery.DeliveryReceipt(office="bp3mi_kalsel", fields=[], delivered_at=case.now)
    assert notices(delivery.delivered(case.s, POLICY, screening.referral_id, receipt, case.now), "restriction") == []


def test_only_the_routed_office_may_answer_early_and_only_once_routed() -> None:
    case = Case()
    screening = case.referral("screening")
    assert "is sent" in case.refused("referral.acknowledged", source="bp3mi_kalsel",
                                           referral_id=screening.referral_id).reason  # not routed yet
    routed_not_confirmed(case)
    refusal = case.refused("referral.acknowledged", source="dp3akb_kalsel", referral_id=screening.referral_id)
    assert "was sent to bp3mi_kalsel" in refusal.reason
    assert "is accepted" in case.refused("referral.completed", source="bp3mi_kalsel",
                                               referral_id=screening.referral_id).reason


def test_a_case_opened_under_rules_v2_still_refuses_an_answer_before_the_receipt() -> None:
    case = Case()
    case.s.rules_version = 2
    screening = routed_not_confirmed(case)
    refusal = case.refused("referral.acknowledged", source="bp3mi_kalsel", referral_id=screening.referral_id)
    assert "sent" in refusal.reason


def test_the_degraded_mode_opens_no_manual_task_for_an_office_that_already_answered() -> None:
    case = Case()
    screening = routed_not_confirmed(case)
    case.send("referral.acknowledged", source="bp3mi_kalsel", referral_id=screening.referral_id)
    assert delivery.unreachable(case.s, screening.referral_id, "bp3mi_kalsel", "timeout", case.now) == []
    assert case.s.manual_tasks == []
