"""The lifecycle rules of DOMAIN §3: which events a case accepts now, and what each one changes.

Pure functions over `CaseState`: no Temporal, no I/O, no clock reading (`now` is passed in). The
workflow calls `check` from its update validator and `apply` from its handler, then carries out the
effects returned (timers, deliveries, notices). Keeping the rules here lets them be tested with plain
constructors and keeps the workflow to orchestration.

Where is what happens when an event arrives? In the module named after its family (the part of its type
before the dot): `identification`, `protection`, `rehabilitation`, `repatriation`, `reintegration`,
`referrals`, `consent`, `case_events` (`case.*`) and `legal`. There each event's guard, data refusal and
handler stand together, registered with `helpers.handles`. `dispatch` opens a case and runs the same steps
around every event (`check`, `apply`); `helpers` holds what the families share. Which clocks an event starts
and stops is the policy's `starts_on`/`stops_on` (`sinergi/policies/default.toml`), run by `apply`.
"""

from sinergi.domain.lifecycle.case_events import contact_attempt_failed
from sinergi.domain.lifecycle.dispatch import GUARDS, EventRefused, accepted_now, apply, check, ended, open_case
from sinergi.domain.lifecycle.helpers import (
    ASSISTANCE_STAGES,
    HANDLING,
    close,
    escalate_referral,
    in_flight,
    may_share,
    notice,
    open_manual_task,
    reroute,
)
from sinergi.domain.lifecycle.referrals import ANSWERS

__all__ = [
    "ANSWERS",
    "ASSISTANCE_STAGES",
    "GUARDS",
    "HANDLING",
    "EventRefused",
    "accepted_now",
    "apply",
    "check",
    "close",
    "contact_attempt_failed",
    "ended",
    "escalate_referral",
    "in_flight",
    "may_share",
    "notice",
    "open_case",
    "open_manual_task",
    "reroute",
]
