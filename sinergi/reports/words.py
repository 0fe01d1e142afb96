"""The words of the reports a person reads (table, xlsx, html), marked for the `reports` gettext catalogs.

Written in English here, translated by `locale/<lang>/LC_MESSAGES/reports.po` (Bahasa Indonesia first: the
coordination meeting reads it). JSON and CSV keep the stable keys and values of SPEC and are never translated.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the gettext convention Babel's extractor looks for
    """Mark a message for translation where it is defined; it is translated where it is shown."""
    return message


SECTION_TITLES = {
    "offices": N_("Offices: answering referrals"),
    "breaches": N_("Deadlines missed, by rule and legal basis"),
    "breaches_by_month": N_("Deadlines missed, by month"),
    "cases": N_("Cases by month, stage and regency"),
    "exploitation": N_("Cases by form of exploitation"),
    "age_groups": N_("Children and adults"),
    "access": N_("Who received or saw the victim's data"),
}
# Worksheet names: at most 31 characters (Excel's limit).
SHEET_NAMES = {
    "offices": N_("Offices"),
    "breaches": N_("Deadlines missed"),
    "breaches_by_month": N_("Missed by month"),
    "cases": N_("Cases"),
    "exploitation": N_("Exploitation"),
    "age_groups": N_("Children and adults"),
    "access": N_("Access to data"),
}
SECTION_NOTES = {
    "offices": N_("Hours are counted from the moment the referral reached the office. An answer is an acceptance or "
                  "a decline. Late: done after the referral's due time, or not done while that time has passed. "
                  "Decline reasons are free text kept encrypted; they are not coded yet, so they are only counted."),
    "breaches": N_("A breach misses a deadline set by law; a warning misses a service standard or an agreed "
                   "default. The escalation rung is the highest step of the escalation ladder that was reached."),
    "cases": N_("Each case is counted once a month, in the stage it stood at when the month ended. Children: under "
                "18 at intake, or of unknown age."),
    "access": N_("Field names only: the values are never shown here. For a decode, the office is the operator or "
                 "user who opened the case's history."),
}
COLUMNS = {
    "office": N_("Office"),
    "kind": N_("Kind"),
    "referrals": N_("Referrals"),
    "acknowledged": N_("Acknowledged"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
    "completed": N_("Completed"),
    "ack_hours_p50": N_("Hours to acknowledge (median)"),
    "ack_hours_p90": N_("Hours to acknowledge (90th percentile)"),
    "accept_hours_p50": N_("Hours to accept (median)"),
    "answer_hours_p50": N_("Hours to answer (median)"),
    "late_ack": N_("Late acknowledgements"),
    "late_answer": N_("Late answers"),
    "decline_reasons": N_("Decline reasons"),
    "committed_hours": N_("Committed response time (hours)"),
    "clock": N_("Rule"),
    "source": N_("Legal basis"),
    "breaches": N_("Missed"),
    "cases": N_("Cases"),
    "offices": N_("Offices responsible"),
    "highest_rung": N_("Highest escalation rung"),
    "month": N_("Month"),
    "period": N_("Month"),
    "stage": N_("Stage"),
    "regency": N_("Regency or city"),
    "opened": N_("Opened"),
    "closed": N_("Closed"),
    "open": N_("Still open"),
    "children": N_("Children"),
    "exploitation": N_("Form of exploitation"),
    "adults": N_("Adults"),
    "group": N_("Group"),
    "fields": N_("Fields (names only)"),
    "at": N_("When"),
    "how": N_("How"),
    "purpose": N_("Purpose"),
    "mandated_by": N_("Mandated by"),
}
VALUES = {
    # stages (the words the offices' e-mails use)
    "identification": N_("identification"),
    "protection": N_("protection"),
    "rehabilitation": N_("rehabilitation"),
    "repatriation": N_("repatriation"),
    "reintegration": N_("reintegration"),
    "closed": N_("closed"),
    # kinds of missed deadline
    "breach": N_("breach"),
    "warning": N_("warning"),
    # how an office got the data
    "referral": N_("referral"),
    "notice": N_("notice"),
    "page": N_("referral page"),
    "decode": N_("history decoded"),
    "decode_masked": N_("history decoded, personal data masked"),
    # groups and placeholders
    "child": N_("child"),
    "adult": N_("adult"),
    "not_coded": N_("not coded"),
    # why an office declined (`referral.declined` `reason_code`)
    "no_capacity": N_("no capacity now"),
    "outside_jurisdiction": N_("outside its area"),
    "not_our_service": N_("not its service"),
    "not_eligible": N_("victim not eligible"),
    "victim_declined": N_("victim refused the service"),
    "not_recorded": N_("not recorded"),
    # forms of exploitation (the intake's vocabulary; docs/reports.md)
    "forced_labour": N_("forced labour"),
    "sexual_exploitation": N_("sexual exploitation"),
    "forced_marriage": N_("forced marriage"),
    "forced_military": N_("forced military service"),
    "organ_removal": N_("organ removal"),
    "slavery_and_practices": N_("slavery and similar practices"),
    "other": N_("other"),
}
UNKNOWN_REGENCY = N_("regency not recorded")
# The charts' words.
CHART_ACK = N_("to acknowledge (median)")
CHART_ANSWER = N_("to answer (median)")
CHART_COMMITTED = N_("committed response time")
CHART_HOURS = N_("hours")
CHART_OFFICES = N_("Hours each office took to acknowledge and to answer a referral, against its committed "
                   "response time")
CHART_BREACHES = N_("Deadlines missed each month, by rule")
CHART_CASES = N_("Cases still open at the end of the period by stage, and cases closed during it, by regency")
CHART_CLOSED = N_("closed during the period")
NOTHING = N_("Nothing in this period.")
NO_ACCESS = N_("No office has received or seen data of this case.")
