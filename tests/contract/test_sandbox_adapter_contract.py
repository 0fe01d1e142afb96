"""The adapter contract, kept by the in-process `sandbox` adapter (the workflow tests' stand-in agency)."""

from __future__ import annotations

from typing import Any

import pytest

from sinergi.adapters.base import AdapterContext
from sinergi.adapters.sandbox import Ledger, SandboxAdapter
from sinergi.agencies import load_registry
from sinergi.domain.agencies import Office
from sinergi.testing.contract import AdapterContract


class InProcessAgency:
    """The contract's probe over the in-process ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def referrals(self, office: str) -> dict[str, dict[str, Any]]:
        return {k: m.model_dump(mode="json") for k, m in self.ledger.referrals[office].items()}

    def notices(self, office: str) -> dict[str, dict[str, Any]]:
        return {k: m.model_dump(mode="json") for k, m in self.ledger.notices[office].items()}

    def times_applied(self, office: str, key: str) -> int:
        # The ledger acts on a key once (setdefault): being there means applied exactly once.
        return int(key in self.ledger.referrals[office] or key in self.ledger.notices[office])

    def make_unavailable(self, office: str) -> None:
        self.ledger.down.add(office)

    def make_rejecting(self, office: str, reason: str) -> None:
        self.ledger.reject[office] = reason

    def restore(self, office: str) -> None:
        self.ledger.down.discard(office)
        self.ledger.reject.pop(office, None)


class TestSandboxAdapter(AdapterContract):
    @pytest.fixture
    def agency(self) -> InProcessAgency:
        return InProcessAgency(Ledger())

    @pytest.fixture
    def adapter(self, agency: InProcessAgency) -> SandboxAdapter:
        return SandboxAdapter(AdapterContext(callback_base_url="http://127.0.0.1:9"), agency.ledger)

    @pytest.fixture
    def office(self) -> Office:
        return load_registry("sandbox").offices["uptd_ppa_kalsel"]
