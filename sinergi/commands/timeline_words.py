"""A case's timeline in the operator's language: the entries the domain writes (`CaseState.note`, English, part of
the case's state), told in the run's language where their form is known, as `case_words` does for refusals.

Each form's `{fields}` are read back out of the English; a field that is itself a known form (a clock's label, a
stage, a referral state, a consent's scope, a reason the case gave) is told in the run's language too. Ids, office
ids, event types and the laws' names stay as written. An entry of no known form is shown as the case wrote it.
`tests/unit/test_cli_catalogs.py` checks that each form is still written so in the domain's code.
"""

from __future__ import annotations

from sinergi.commands.console import CONSENT, STATES, stage_word
from sinergi.commands.language import N_, _, words
from sinergi.commands.model_words import told

# Reasons the case gives inside the entries below (`{why}`); a manual task's reason (`case status`, `case why`).
REASON_FORMS = (
    N_("{office}'s system is unreachable ({error}): deliver {service} by phone or paper; sinergi keeps retrying and "
       "will not send it twice"),
    N_("{service}: {why}. Correct it with the agency and refer again by phone or letter"),
    N_("{office} rejected the referral: {error}"),
    N_("{service}: {why}; no other agency is available: arrange it by phone or letter"),
    N_("declined by {office}: {reason}"),
    N_("no {kind} office covers {place}"),
    N_("case closed"),
    N_("case transferred"),
    N_("consent withdrawn"),
    N_("referral completed"),
    N_("referral declined"),
    N_("screening completed"),
)
# Most specific first: the first form that matches the whole entry wins.
TIMELINE_FORMS = (
    # clocks (`sinergi.domain.clocks`)
    N_("{label} started, due {due}"),
    N_("{label} missed (breach)"),
    N_("{label} missed (SLA warning)"),
    N_("{clock} cancelled: {why}"),
    N_("{clock} paused: {why}"),
    N_("{clock} resumed, due {due}"),
    N_("{why}: escalated to {role} ({agency}), rung {rung}"),
    N_("{label} stopped"),
    N_("{label} ended"),
    # referrals and deliveries (`sinergi.domain.delivery`, `lifecycle.helpers`, `lifecycle.referrals`)
    N_("{office} unreachable for referral {referral_id}; manual task {task}"),
    N_("referral {referral_id} rejected by {office}: {error}; manual task {task}"),
    N_("referral {referral_id} ({service}) {why}; manual task {task}"),
    N_("{referral_id} {why}; re-routed to {kind}"),
    N_("{referral} held: no consent for sharing"),
    N_("{referral_id}: {service} → {kind} (mandated: {law})"),
    N_("{referral_id}: {service} → {kind}"),
    N_("{referral_id} delivered to {office} ({count} fields)"),
    N_("{referral_id} reached {office} after it was {status}"),
    N_("{referral_id} withdrawn while being delivered to {office}: restriction notice sent"),
    N_("{referral_id} answered by {office} before its delivery was confirmed"),
    N_("manual task {task} closed: {referral_id} delivered to {office}"),
    N_("manual task {task}: {why}"),
    # stages and the case (`lifecycle.*`)
    N_("case opened ({agency}, {channel})"),
    N_("stage: {stage}"),
    N_("closed: {why}"),
    N_("crisis at follow-up: protection re-opened"),
    N_("screening needs more information: deadline extended"),
    N_("the victim is already home: repatriation skipped"),
    N_("return assessed unsafe: no return; local protection and integration"),
    N_("no confirmed caregiver or not in the child's best interest: the child does not return"),
    N_("follow-up: at risk (watch for re-trafficking)"),
    N_("the legal track continues: heirs keep restitution rights"),
    N_("contact attempt {attempt} of {attempts} failed"),
    N_("transferred from {old} to {new}"),
    # consent (`lifecycle.consent`)
    N_("consent recorded: {scope}"),
    N_("consent withdrawn: {scope} for {agency}"),
    N_("consent withdrawn: {scope}"),
    N_("legally mandated police processes continue ({law})"),
    N_("restriction notices sent to {offices}"),
    *REASON_FORMS,
)


def _label(text: str) -> str:
    """A clock's label, `<id> <source>: <title>[ (<context>)]` (`clocks._label`): its source and title in the run's
    language where the catalog has them (a law's name is its own translation)."""
    rule, _space, rest = text.partition(" ")
    for at in range(len(rest)):  # a source may hold ": " itself (`sinergi default (no source found): ...`)
        if rest.startswith(": ", at):
            source, title = rest[:at], rest[at + 2:]
            context = ""
            if title.endswith(")") and " (" in title:
                title, _open, context = title.rpartition(" (")
                context = f" ({context}"
            if _(source) != source or _(title) != title:
                return f"{rule} {_(source)}: {_(title)}{context}"
    return text


# Why clocks wait (`clocks.pause`: the case's pause reasons).
PAUSES = {"contact_lost": N_("contact with the victim lost"), "consent_withdrawn": N_("the victim withdrew consent")}


def _value(field: str, value: str) -> str:
    if field == "label":
        return _label(value)
    if field == "stage":
        return stage_word(value)
    if field == "status":
        return words(STATES, value)
    if field == "scope":
        return words(CONSENT, value)
    if field == "why":  # a reason the case gave (its own words only: a reason a person typed stays as typed)
        return _(PAUSES[value]) if value in PAUSES else told(REASON_FORMS, value, _value)
    if field == "referral":  # a referral's own line, held
        return entry_words(value)
    if field == "service":
        return _(value)  # a service as `routing.describe` words it: the catalog has each
    return value


def entry_words(text: str) -> str:
    """A timeline entry in the run's language where its form is known, else as the case wrote it."""
    return told(TIMELINE_FORMS, text, _value)


def reason_words(text: str) -> str:
    """A manual task's reason, or another reason the case gave, in the run's language where its form is known."""
    return told(REASON_FORMS, text, _value)
