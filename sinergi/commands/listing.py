"""The visibility query behind `case list`: filters become search-attribute conditions."""

from __future__ import annotations

import re

_SAFE = re.compile(r"^[A-Za-z0-9_. -]{1,100}$")


def _quoted(name: str, value: str) -> str:
    from sinergi.commands.console import UserError
    from sinergi.commands.language import _

    if not _SAFE.match(value):
        raise UserError(_("--{name}: {value!r} has characters a filter cannot hold; use letters, digits, '_', "
                          "'-'").format(name=name, value=value))
    return f"'{value}'"


def list_query(*, stage: str | None = None, province: str | None = None, agency: str | None = None,
               escalated: bool = False, is_open: bool | None = None) -> str:
    conditions = ["WorkflowType = 'CaseWorkflow'"]
    if stage:
        conditions.append(f"CaseStage = {_quoted('stage', stage)}")
    if province:
        conditions.append(f"CaseProvince = {_quoted('province', province.upper())}")
    if agency:
        conditions.append(f"CaseAgencies = {_quoted('agency', agency)}")
    if escalated:
        conditions.append("CaseEscalated = true")
    if is_open is True:
        conditions.append("ExecutionStatus = 'Running'")
    elif is_open is False:
        conditions.append("ExecutionStatus != 'Running'")
    return " AND ".join(conditions)
