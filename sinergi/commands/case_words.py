"""A case's own words in the operator's language: the messages `sinergi.cases` and the domain's refusals are
written with (`no case KALSEL-2026-...`, `protection.shelter_admitted refused: the case is in identification, not
protection`), each a template whose `{fields}` are read back out of the English and put into the translation.

The domain and the case service speak English (their messages are part of workflow results and histories,
which replay as they were written); the CLI is where a person reads them, so it is here that they are told in
that person's language. A message of no known form is shown as the case said it. tests/unit/test_cli_catalogs.py
checks that each form still matches the message the code makes.
"""

from __future__ import annotations

from sinergi.commands.console import STATES, stage_word
from sinergi.commands.language import N_, _, words
from sinergi.commands.model_words import MODEL_FORMS, told

# Most specific first: the first form that matches the whole message wins.
FORMS = (
    N_("no case {case_id}"),
    N_("case {case_id} already exists"),
    N_("cannot reach Temporal at {address}: {error}"),
    N_("Temporal did not answer in time: {error}"),
    N_("Temporal is unreachable: {error}"),
    N_("case {case_id} did not answer the event in time"),
    N_("case {case_id} is busy applying its work; ask again in a moment"),
    N_("case {case_id} could not take the event: {error}"),
    N_("office {office} is not part of case {case_id}"),
    N_("office {office} may not send {type} events (its agreement)"),
    N_("referral {referral_id} was not sent to office {office}"),
    N_("the event is for case {other}, not {case_id}"),
    N_("{type} refused: {reason}"),
    # The refusals' reasons (`{type} refused: {reason}`).
    N_("the case is closed"),
    N_("this event type is recorded by sinergi itself"),
    N_("the case is in {stage}, not {stages}"),
    N_("no referral {referral_id} in this case"),
    N_("referral {referral_id} is {status}, expected {statuses}"),
    N_("referral {referral_id} was sent to {office}, not {source}"),
    N_("already requested: {services}"),
    N_("no safe risk assessment yet (repatriation.risk_assessed with safe=true first)"),
    N_("no travel document yet (repatriation.travel_document_issued first)"),
    N_("it carries no time of sealing (sent by an older sinergi): update the sender's sinergi"),
    N_("it was sealed at {sealed_at}, more than {minutes} minutes ago: a copy, or held too long; if it was not "
       "applied, send it again"),
    N_("it was sealed at {sealed_at}, ahead of the case's time: check the clock of the machine that sealed it"),
    N_("it was sealed at {sealed_at}, before the oldest event the case still remembers from {office}: it cannot be "
       "told from one already applied; if it was not applied, send it again"),
    *MODEL_FORMS,
)


def _alternatives(text: str, word) -> str:
    """`protection or rehabilitation` → each word in the run's language, joined by its `or`."""
    return _(" or ").join(word(part) for part in text.split(" or "))


def _value(field: str, value: str) -> str:
    if field == "reason":
        return translated(value)
    if field == "stage":
        return stage_word(value)
    if field == "stages":
        return _alternatives(value, stage_word)
    if field == "status":
        return words(STATES, value)
    if field == "statuses":
        return _alternatives(value, lambda state: words(STATES, state))
    return value


def translated(message: str) -> str:
    """`message` in the run's language if it has one of the known `FORMS`, else as it is."""
    return told(FORMS, message, _value)
