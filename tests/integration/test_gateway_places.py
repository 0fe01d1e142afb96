"""Places at the gateway (SPEC "Places"): an office's event naming a place that does not exist is 400 with the
nearest names, and nothing reaches the case; one naming it by name or code moves the case, which keeps the code."""

from __future__ import annotations

import pytest
from gateway_kit import LEAD, envelope, gateway_for


@pytest.fixture(scope="module")
async def kit(dev_env, tmp_path_factory):
    async with gateway_for(dev_env, tmp_path_factory.mktemp("gateway-places")) as kit:
        yield kit


@pytest.mark.parametrize(("data", "field", "nearest"), [
    ({"province": "XXX"}, "data.province", "no province 'XXX'; nearest:"),
    ({"province": "Jawa Timr"}, "data.province", "Jawa Timur (35, JATIM)"),
    ({"province": "JATIM", "regency": "Surabya"}, "data.regency", "nearest: Kota Surabaya"),
])
async def test_a_transfer_to_a_place_that_does_not_exist_is_400_naming_the_nearest(kit, data, field, nearest):
    case_id = await kit.open_case()
    before = await kit.settle(case_id)
    response = await kit.post(LEAD, envelope(case_id, "case.transferred", data))
    body = await response.json()
    assert response.status == 400 and body["error"] == "invalid_event", body
    [problem] = body["details"]
    assert problem["field"] == field and nearest in problem["message"], body
    assert await kit.history_length(case_id) == before


async def test_a_transfer_by_name_moves_the_case_which_keeps_the_codes(kit):
    case_id = await kit.open_case()
    response = await kit.post(LEAD, envelope(case_id, "case.transferred", {"province": "Jawa Timur",
                                                                          "regency": "surabaya"}))
    assert response.status == 202, await response.json()
    status = await kit.harness.cases.status(case_id)
    assert (status.province, status.regency) == ("JATIM", "35.78")
