"""The `record_facts` activity: a case's facts (`sinergi.domain.record`) into the case record, each once.

Every fact's id is made from its content and the workflow's times, and the record inserts each id once
(`INSERT ... ON CONFLICT DO NOTHING`): a retried activity, a replayed workflow or a back-fill of the same case
writes nothing twice. A database that cannot be reached is retried by Temporal (the case meanwhile goes on);
a fact the record cannot take (a bug) fails the activity for good, and the workflow says so in its log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from sinergi.domain import places
from sinergi.domain.intake import Intake
from sinergi.workflows import messages as m

RECORD_UNAVAILABLE = "RecordUnavailable"
FACT_REFUSED = "FactRefused"


def build_facts(batch: list[dict[str, Any]]) -> list[Any]:
    """The record's fact objects for the workflow's plain facts (`kind` names the class; `kind_` is the
    agency kind of a referral step or a notice)."""
    from sinergi import records

    kinds = {cls.__name__: cls for cls in records.FACT_KINDS}
    out = []
    for raw in batch:
        fields = {k: v for k, v in raw.items() if k != "kind"}
        if "kind_" in fields:
            fields["kind"] = fields.pop("kind_")
        name = raw["kind"]
        if name == "CaseOpened":
            intake = Intake.model_validate(fields["intake"])
            # The regency by code, also for a case opened before intakes held codes (`Kabupaten Banjar`).
            regency = places.known_regency(intake.regency, intake.province)
            out.append(records.CaseOpened.from_intake(fields["case_id"], intake,
                                                      datetime.fromisoformat(fields["opened_at"]),
                                                      regency_code=regency.code if regency else None,
                                                      rules_version=fields.get("rules_version")))
            continue
        if name == "ReferralStep" and fields.get("kind") is None:
            fields["kind"] = "-"
        out.append(kinds[name].model_validate(fields))
    return out


class RecordActivities:
    """Writes through one `AsyncCaseRecord` per worker process (None: a worker without a record, as in some
    test kits; the facts are then dropped, and said so once)."""

    def __init__(self, record: Any | None) -> None:
        self.record = record
        self._warned = False

    @activity.defn(name=m.RECORD_FACTS_ACTIVITY)
    async def record_facts(self, batch: m.RecordBatch) -> int:
        if self.record is None:
            if not self._warned:
                activity.logger.warning("case record not configured in this worker: its facts are not kept")
                self._warned = True
            return 0
        from sinergi.records import RecordUnavailable

        try:
            facts = build_facts(batch.facts)
        except (ValidationError, KeyError, ValueError) as exc:
            # Where and what kind of problem, never the value: a fact can carry the intake, and this message
            # goes to the log and the history's failure.
            raise ApplicationError(f"facts of case {batch.case_id} the record cannot take: {_problem(exc)}"[:500],
                                   type=FACT_REFUSED, non_retryable=True) from None
        try:
            written = await self.record.write(facts)
        except RecordUnavailable as exc:
            raise ApplicationError(f"the case record is unavailable: {exc}"[:500], type=RECORD_UNAVAILABLE) from None
        return written.written


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{exc.title}.{'.'.join(map(str, e['loc']))}: {e['type']}"
                         for e in exc.errors(include_input=False, include_url=False))
    return type(exc).__name__
