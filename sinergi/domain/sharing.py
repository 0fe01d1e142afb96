"""Data minimization and the consent gate, in one place (DOMAIN §6; UU 27/2022; UU 21/2007 Art. 44).

Every outbound referral passes `may_share` in the workflow before it is sent, and `payload_for` in the
activity that sends it: an office receives only the intake fields its agreement's `receives` lists.
"""

from __future__ import annotations

from typing import Any

from sinergi.domain.agencies import Office
from sinergi.domain.case import Consent, Referral
from sinergi.domain.intake import Intake, field_value

LEGAL_SERVICES = ("police_report", "legal_aid")


def may_share(consent: Consent, referral: Referral) -> bool:
    # branch: consent_withdrawn, legal_track
    """Outbound data needs consent for the purpose and for sharing; the law's own mandates excepted."""
    if referral.mandated_by:
        return True
    if {referral.kind, referral.office} & set(consent.withheld_from):
        return False
    if referral.returns_to_source:
        # The first screening goes back to the first-contact agency that took the intake: the data came
        # from it, so nothing new is disclosed. A re-routed or transferred screening is a new disclosure.
        return True
    purpose_ok = consent.legal if referral.service in LEGAL_SERVICES else consent.services
    return purpose_ok and consent.data_sharing


def payload_for(intake: Intake, office: Office) -> tuple[dict[str, Any], list[str]]:
    """The intake reduced to what `office` may receive: a nested dict, and the dotted fields it holds."""
    data: dict[str, Any] = {}
    sent: list[str] = []
    for dotted in office.allowed_fields():
        value = field_value(intake, dotted)
        if value is None or value == []:
            continue
        *parents, leaf = dotted.split(".")
        target = data
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value.isoformat() if hasattr(value, "isoformat") else value
        sent.append(dotted)
    return data, sent
