"""The contract every agency adapter keeps, as a reusable pytest class (like keyring's BackendBasicTests).

A plugin's tests subclass `AdapterContract` and provide three fixtures:

- `adapter`: the adapter under test (an `AgencyAdapter`);
- `office`: an `Office` of the agency registry the adapter reaches;
- `agency`: an `AgencyProbe` — what the agency's own system received, and switches to make it
  unavailable or refusing.

```python
class TestMyAdapter(AdapterContract):
    @pytest.fixture
    def adapter(self, ...): ...
```
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

import pytest

from sinergi.adapters.base import AgencyAdapter, AgencyRejected, AgencyUnavailable, NoticeMessage, ReferralMessage
from sinergi.domain.agencies import Office


class AgencyProbe(Protocol):
    """A window into the agency's system, as the contract needs it."""

    def referrals(self, office: str) -> dict[str, dict[str, Any]]:
        """Referral bodies the office acted on, by referral id (as JSON-ready dicts)."""
        ...

    def notices(self, office: str) -> dict[str, dict[str, Any]]:
        ...

    def times_applied(self, office: str, key: str) -> int:
        """How many times the office acted on the message with this idempotency key."""
        ...

    def make_unavailable(self, office: str) -> None: ...

    def make_rejecting(self, office: str, reason: str) -> None: ...

    def restore(self, office: str) -> None: ...

    def readable(self, office: str, key: str) -> str:
        """Only for adapters with `carries_data = False`: everything the office can read in the message with this
        key, as received and with any transfer encoding (base64, quoted-printable) undone, so a search finds it."""
        ...


def sample_referral(**overrides: Any) -> ReferralMessage:
    raw: dict[str, Any] = {
        "referral_id": f"CONTRACT-{uuid.uuid4().hex[:8].upper()}-R001", "case_id": "CONTRACT-2026-TEST",
        "service": "shelter", "stage": "protection", "due_by": datetime(2026, 11, 28, tzinfo=UTC),
        "callback_url": "http://127.0.0.1:9/v1/agencies/x/events",
        "data": {"person": {"full_name": "Contoh Kontrak", "sex": "F"}, "situation": {"is_pmi": True}},
    }
    return ReferralMessage.model_validate({**raw, **overrides})


def sample_notice(**overrides: Any) -> NoticeMessage:
    raw = {"notice_id": f"CONTRACT-{uuid.uuid4().hex[:8].upper()}-N001", "case_id": "CONTRACT-2026-TEST",
           "purpose": "restriction", "text": "consent withdrawn: stop processing this case's personal data"}
    return NoticeMessage.model_validate({**raw, **overrides})


class AdapterContract:
    """Subclass and provide the `adapter`, `office` and `agency` fixtures; every test here must pass."""

    # False for an adapter whose messages carry no personal data at all (e-mail: the office reads the fields its
    # agreement allows on the referral page). It must then send none of the payload, not just the payload given.
    carries_data: ClassVar[bool] = True

    @pytest.fixture
    def adapter(self) -> AgencyAdapter:
        raise NotImplementedError("provide an `adapter` fixture")

    @pytest.fixture
    def office(self) -> Office:
        raise NotImplementedError("provide an `office` fixture")

    @pytest.fixture
    def agency(self) -> AgencyProbe:
        raise NotImplementedError("provide an `agency` fixture")

    async def test_a_referral_reaches_the_agency(self, adapter, office, agency) -> None:
        message = sample_referral()
        await adapter.deliver_referral(office, message)
        received = agency.referrals(office.id)[message.referral_id]
        assert (received["case_id"], received["service"], received["stage"]) == (
            message.case_id, message.service, message.stage)

    async def test_the_same_referral_twice_reaches_the_agency_once(self, adapter, office, agency) -> None:
        message = sample_referral()
        await adapter.deliver_referral(office, message)
        await adapter.deliver_referral(office, message)
        assert agency.times_applied(office.id, message.referral_id) == 1

    async def test_an_unavailable_agency_raises_agency_unavailable(self, adapter, office, agency) -> None:
        agency.make_unavailable(office.id)
        try:
            with pytest.raises(AgencyUnavailable):
                await adapter.deliver_referral(office, sample_referral())
        finally:
            agency.restore(office.id)

    async def test_delivery_resumes_once_the_agency_is_back_and_lands_once(self, adapter, office, agency) -> None:
        message = sample_referral()
        agency.make_unavailable(office.id)
        with pytest.raises(AgencyUnavailable):
            await adapter.deliver_referral(office, message)
        agency.restore(office.id)
        await adapter.deliver_referral(office, message)
        assert agency.times_applied(office.id, message.referral_id) == 1

    async def test_a_refusing_agency_raises_agency_rejected_with_its_reason(self, adapter, office, agency) -> None:
        agency.make_rejecting(office.id, "identity document number missing")
        try:
            with pytest.raises(AgencyRejected) as refused:
                await adapter.deliver_referral(office, sample_referral())
        finally:
            agency.restore(office.id)
        assert "identity document number missing" in refused.value.reason

    async def test_a_notice_reaches_the_agency_once(self, adapter, office, agency) -> None:
        notice = sample_notice()
        await adapter.deliver_notice(office, notice)
        await adapter.deliver_notice(office, notice)
        assert agency.notices(office.id)[notice.notice_id]["purpose"] == "restriction"
        assert agency.times_applied(office.id, notice.notice_id) == 1

    async def test_only_the_payload_given_is_sent(self, adapter, office, agency) -> None:
        if not self.carries_data:
            pytest.skip("the adapter carries no data: test_none_of_the_payload_is_sent")
        message = sample_referral(data={"situation": {"is_pmi": True}})
        await adapter.deliver_referral(office, message)
        assert agency.referrals(office.id)[message.referral_id]["data"] == {"situation": {"is_pmi": True}}

    async def test_none_of_the_payload_is_sent(self, adapter, office, agency) -> None:
        if self.carries_data:
            pytest.skip("the adapter carries the payload: test_only_the_payload_given_is_sent")
        secret = {"full_name": "Contoh Kontrak Rahasia", "phone": "+62 811 0000 4242"}
        message = sample_referral(data={"person": secret})
        await adapter.deliver_referral(office, message)
        assert agency.referrals(office.id)[message.referral_id].get("data", {}) == {}
        readable = agency.readable(office.id, message.referral_id)
        assert message.case_id in readable  # the search does look at the message
        for value in (*secret.values(), "Kontrak Rahasia", "811 0000 4242"):
            assert value not in readable
