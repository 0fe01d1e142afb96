"""Adapters are plugins (entry-point group `sinergi.adapters`): built-ins resolve, a broken plugin is
skipped, two plugins with one name are refused."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

import pytest
import structlog.testing

from sinergi.adapters.base import AdapterContext, AgencyAdapter
from sinergi.adapters.registry import GROUP, DuplicateAdapter, build_adapters, discover

BUILT_INS = {"sandbox": "sinergi.adapters.sandbox:SandboxAdapter", "webhook": "sinergi.adapters.webhook:WebhookAdapter"}


def test_every_built_in_adapter_is_registered_and_resolves_to_an_agency_adapter() -> None:
    points = {p.name: p for p in entry_points(group=GROUP)}
    for name, target in BUILT_INS.items():
        assert points[name].value == target
        adapter_class = points[name].load()
        assert adapter_class.name == name
        # `name` is a data member, so the protocol allows isinstance (not issubclass) checks.
        assert all(callable(getattr(adapter_class, m)) for m in ("deliver_referral", "deliver_notice", "close"))


def test_every_installed_entry_point_of_the_group_resolves() -> None:
    assert set(BUILT_INS) <= set(discover())


def test_the_built_ins_build_from_one_context_sharing_its_session() -> None:
    session = object()  # stands in for the process's one aiohttp.ClientSession
    adapters = build_adapters(AdapterContext(callback_base_url="http://x", session=session), set(BUILT_INS))
    assert all(isinstance(a, AgencyAdapter) for a in adapters.values())
    assert adapters["webhook"].session is session


def test_a_plugin_that_fails_to_load_is_logged_and_skipped() -> None:
    points = [EntryPoint("broken", "sinergi_no_such_plugin.adapter:Broken", GROUP),
              EntryPoint("sandbox", BUILT_INS["sandbox"], GROUP)]
    with structlog.testing.capture_logs() as logs:
        found = discover(points)
    assert set(found) == {"sandbox"}
    assert [(e["event"], e["adapter"]) for e in logs] == [("adapter_plugin_skipped", "broken")]


def test_two_plugins_claiming_one_name_are_refused_naming_both() -> None:
    points = [EntryPoint("webhook", BUILT_INS["webhook"], GROUP),
              EntryPoint("webhook", "acme_agencies.adapter:Webhook", GROUP)]
    with pytest.raises(DuplicateAdapter) as refused:
        discover(points)
    message = str(refused.value)
    assert "'webhook' is registered twice" in message
    assert BUILT_INS["webhook"] in message and "acme_agencies.adapter:Webhook" in message


def test_an_office_naming_an_adapter_that_is_not_installed_is_refused_with_what_is() -> None:
    with pytest.raises(LookupError, match="no adapter plugin named carrier_pigeon; installed: sandbox"):
        build_adapters(AdapterContext(callback_base_url="http://x"), {"carrier_pigeon"},
                       classes=discover([EntryPoint("sandbox", BUILT_INS["sandbox"], GROUP)]))
