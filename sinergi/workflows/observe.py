"""What a case workflow tells its operators as it changes: log lines and counters.

Both are replay-safe — `workflow.logger` is silent while history replays and `workflow.metric_meter()`
records nothing then — and neither is a command, so adding or changing them needs no `workflow.patched`.
Lines and counters carry ids, offices, rules and stages: never personal data, never free text an agency
or operator wrote (a reason can quote the person).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from sinergi.domain.case import CaseState

# Counter names as Prometheus shows them (`_total` is the exporter's to add, if configured so).
REFERRALS_SENT = "sinergi_referrals_sent"
REFERRALS_ACKNOWLEDGED = "sinergi_referrals_acknowledged"
REFERRALS_DECLINED = "sinergi_referrals_declined"
BREACHES = "sinergi_breaches"
ESCALATIONS = "sinergi_escalations"
MANUAL_TASKS = "sinergi_manual_tasks_opened"


class CaseObserver:
    """Compares the case with what it last saw; logs and counts what is new."""

    def __init__(self, resumed: CaseState | None) -> None:
        meter = workflow.metric_meter()
        self._referrals = {
            "sent": meter.create_counter(REFERRALS_SENT, "Referrals delivered to an agency, per office"),
            "acknowledged": meter.create_counter(REFERRALS_ACKNOWLEDGED, "Referrals an agency acknowledged"),
            "declined": meter.create_counter(REFERRALS_DECLINED, "Referrals an agency declined"),
        }
        self._breaches = meter.create_counter(BREACHES, "Missed clocks (statutory breaches and SLA warnings), per rule")
        self._escalations = meter.create_counter(ESCALATIONS, "Escalations, per rule (or referral, contact_lost)")
        self._tasks = meter.create_counter(MANUAL_TASKS, "Manual tasks opened, per agency")
        # After continue-as-new the case's past was already told: start from where it stands.
        s = resumed
        self._status = {r.referral_id: r.status for r in s.referrals.values()} if s else {}
        self._seen = (len(s.breaches), len(s.escalations), len(s.manual_tasks)) if s else (0, 0, 0)
        self._stage = str(s.stage) if s else None

    def changed(self, s: CaseState) -> None:
        log = workflow.logger
        if str(s.stage) != self._stage:
            log.info("case_stage", extra={"stage": str(s.stage), "previous_stage": self._stage})
            self._stage = str(s.stage)
        for referral in s.referrals.values():
            if self._status.get(referral.referral_id) == referral.status:
                continue
            self._status[referral.referral_id] = referral.status
            office = referral.office or referral.kind
            if referral.status in self._referrals:
                self._referrals[referral.status].add(1, {"office": office})
            if referral.status != "pending":
                level = log.warning if referral.status == "failed" else log.info
                level(f"referral_{referral.status}", extra={"referral_id": referral.referral_id, "office": office,
                                                            "service": referral.service, "stage": str(s.stage)})
        breaches, escalations, tasks = self._seen
        for breach in s.breaches[breaches:]:
            self._breaches.add(1, {"rule": breach.clock, "kind": breach.kind})
            log.warning("clock_breached" if breach.kind == "breach" else "clock_missed",
                        extra={"rule": breach.clock, "source": breach.source, "context": breach.context})
        for escalation in s.escalations[escalations:]:
            self._escalations.add(1, {"rule": escalation.clock, "level": escalation.level})
            log.warning("escalated", extra={"rule": escalation.clock, "source": escalation.source,
                                            "rung": escalation.rung, "role": escalation.role,
                                            "agency": escalation.agency})
        for task in s.manual_tasks[tasks:]:
            self._tasks.add(1, {"agency": task.agency})
            log.warning("manual_task_opened", extra={"task_id": task.id, "agency": task.agency,
                                                     "referral_id": task.referral_id})
        self.rebase(s)

    def rebase(self, s: CaseState) -> None:
        """Take the case as it stands as seen (after `limits.compact` dropped what had ended)."""
        self._seen = (len(s.breaches), len(s.escalations), len(s.manual_tasks))
        self._status = {r.referral_id: r.status for r in s.referrals.values()}
