"""`report offices`: how each office answers the referrals sent to it — how many, how fast, how often late.

A referral counts for the office it was sent to (`referral_steps.office`), in the period its `sent` step falls
in (a referral re-routed after a decline counts again for its next office). Its acknowledgement is its first
`acknowledged`, `accepted` or `declined` step: an office's answer proves it received the referral, as the case
itself holds (rule S3). Its answer is its first `accepted` or `declined` step.

Late is measured against the referral's own due time, as the case recorded it on the step: the `sent` step's
`due_at` for the acknowledgement (S3), the `acknowledged` step's for the answer (S4); an office that answered
without acknowledging first answered against the acknowledgement's due time. A step recorded without a due time
falls back to the office's committed response time (`committed`, from the agreement), counted from the step.
A referral still unanswered counts as late once its due time has passed while it was open.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from pydantic import BaseModel

from sinergi.records import _schema as t
from sinergi.reports._query import Bind, Scope, connected, hours, percentile

ENDING = ("cancelled", "failed")
# Decline reasons in words are sealed with the victim's data: reports count declines by their code
# (`referral.declined` `reason_code`); a decline sent without one counts here.
NOT_CODED = "not_coded"


class OfficeRow(BaseModel):
    """One office's answers to the referrals sent to it in the period (SPEC `report offices --json`)."""

    office: str
    kind: str
    referrals: int
    acknowledged: int
    accepted: int
    declined: int
    completed: int
    ack_hours_p50: float | None
    ack_hours_p90: float | None
    accept_hours_p50: float | None
    late_ack: int
    late_answer: int
    decline_reasons: dict[str, int]
    # Hours from sending to the first answer, accepted or declined (the chart's "to answer").
    answer_hours_p50: float | None = None
    # The office's committed response time (`response_time` in the agreement), when the registry was given.
    committed_hours: float | None = None


def offices(bind: Bind, since: datetime | None = None, until: datetime | None = None, province: str | None = None,
            *, committed: Mapping[str, timedelta] | None = None, now: datetime | None = None) -> list[OfficeRow]:
    """Per office, the referrals sent to it in [since, until) of cases of `province`, sorted by office.

    `committed`: office id -> its committed response time, the fallback for steps recorded without a due time.
    """
    scope = Scope(since, until, province, now=now or datetime.now(UTC))
    committed = committed or {}
    rs = t.referral_steps
    source, conditions = scope.of_province(rs)

    def first(column: sa.ColumnElement[Any], *states: str) -> sa.ColumnElement[Any]:
        return sa.func.min(sa.case((rs.c.state.in_(states), column)))

    # One row per referral and office, its steps side by side: the database pivots, Python only compares.
    start = sa.func.coalesce(first(rs.c.at, "sent"), sa.func.min(rs.c.at))
    query = (sa.select(rs.c.office, sa.func.min(rs.c.kind), start, first(rs.c.due_at, "sent"),
                       first(rs.c.at, "acknowledged"), first(rs.c.due_at, "acknowledged"), first(rs.c.at, "accepted"),
                       first(rs.c.at, "declined"), first(rs.c.at, "completed"), first(rs.c.at, *ENDING),
                       first(rs.c.reason_code, "declined"))
             .select_from(source).where(rs.c.office.is_not(None), *conditions)
             .group_by(rs.c.case_id, rs.c.referral_id, rs.c.office).having(*scope.within(start)))
    by_office: dict[str, list[_Referral]] = {}
    with connected(bind) as conn:
        for office, *steps in conn.execute(query).tuples():
            by_office.setdefault(office, []).append(_Referral(*steps))
    return [_row(office, found, committed.get(office), scope) for office, found in sorted(by_office.items())]


class _Referral(NamedTuple):
    """A referral to one office, its steps side by side: the first time it reached each state."""

    kind: str
    start: datetime  # when it reached the office: its `sent` step (else its first step)
    ack_due: datetime | None
    acknowledged: datetime | None
    answer_due: datetime | None
    accepted: datetime | None
    declined: datetime | None
    completed: datetime | None
    ended: datetime | None  # cancelled or failed
    decline_code: str | None  # the decline's coded reason


def _row(office: str, referrals: list[_Referral], committed: timedelta | None, scope: Scope) -> OfficeRow:
    ack_hours, accept_hours, answer_hours = [], [], []
    late_ack = late_answer = declined = completed = 0
    reasons: dict[str, int] = {}
    as_of = scope.as_of
    for _kind, start, ack_due, acknowledged, answer_due, accepted, refused, done, ended, code in referrals:
        answers = [at for at in (accepted, refused) if at is not None]
        answered = min(answers) if answers else None
        # An answer proves the office received the referral (rule S3): the first of the three acknowledges.
        acked = min([acknowledged, *answers]) if acknowledged is not None else answered
        if acked is not None:
            ack_hours.append(hours(acked - start))
        if accepted is not None:
            accept_hours.append(hours(accepted - start))
        if answered is not None:
            answer_hours.append(hours(answered - start))
        declined += refused is not None
        if refused is not None:
            reasons[code or NOT_CODED] = reasons.get(code or NOT_CODED, 0) + 1
        completed += done is not None
        if ack_due is None and committed is not None:
            ack_due = start + committed
        if acknowledged is not None:
            if answer_due is None and committed is not None:
                answer_due = acknowledged + committed
        else:  # answered at once (or not at all): against the acknowledgement's due time (rule S3)
            answer_due = ack_due if answered is not None else None
        # Until when an unanswered referral waited: its end (cancelled, failed), else as far as the report sees.
        waited_until = min(ended, as_of) if ended is not None else as_of
        late_ack += _late(acked, ack_due, waited_until)
        late_answer += _late(answered, answer_due, waited_until)
    return OfficeRow(
        office=office, kind=",".join(sorted({r.kind for r in referrals})), referrals=len(referrals),
        acknowledged=len(ack_hours), accepted=len(accept_hours), declined=declined, completed=completed,
        ack_hours_p50=percentile(ack_hours, 0.5), ack_hours_p90=percentile(ack_hours, 0.9),
        accept_hours_p50=percentile(accept_hours, 0.5), late_ack=late_ack, late_answer=late_answer,
        decline_reasons=dict(sorted(reasons.items())), answer_hours_p50=percentile(answer_hours, 0.5),
        committed_hours=None if committed is None else round(hours(committed), 2),
    )


def _late(done: datetime | None, due: datetime | None, waited_until: datetime) -> bool:
    """Done after its due time, or not done and the due time passed while it waited."""
    if due is None:
        return False
    return done > due if done is not None else waited_until > due
