"""Which kind of agency serves what, in order of preference (DOMAIN §2–3).

A declined referral moves to the next kind in its list; when the list is spent it is escalated.
"""

from __future__ import annotations

from collections.abc import Callable

from sinergi.domain.case import Facts

ServiceRoute = Callable[[Facts], list[str]]


def _shelter(facts: Facts) -> list[str]:
    # branch: abroad, child
    if facts.abroad:
        return ["kbri"]
    # UPTD PPA serves women and children; adult men go to social affairs' shelters first.
    return ["uptd_ppa", "dinsos", "ngo"] if facts.child or facts.female else ["dinsos", "ngo"]


def _social(facts: Facts) -> list[str]:
    return ["uptd_ppa", "dinsos", "ngo"] if facts.child else ["dinsos", "ngo"]


SERVICES: dict[str, tuple[str, ServiceRoute]] = {
    # service: (what the agency is asked to do, kinds in order of preference)
    "screening": ("identification screening (victim or not, legal elements, ILO indicators)",
                  lambda f: list(dict.fromkeys([f.first_contact, "uptd_ppa"]))),
    "protection_abroad": ("protection abroad and victim-or-perpetrator screening", lambda f: ["kbri"]),
    "child_protection": ("child victim: companion and case management", lambda f: ["uptd_ppa"]),
    "police_report": ("police report and investigation", lambda f: ["polri"]),
    "foreign_victim": ("foreign national: contact with their mission", lambda f: ["imigrasi"]),
    "shelter": ("shelter placement", _shelter),
    "urgent_first_aid": ("urgent first aid", lambda f: ["dinkes"]),
    "legal_aid": ("legal aid", lambda f: ["ngo"]),
    "health": ("health rehabilitation", lambda f: ["dinkes"]),
    "social": ("social rehabilitation", _social),
    "repatriation": ("repatriation", lambda f: ["kbri"] if f.abroad else ["dinsos", "bp3mi"]),
    "reintegration": ("reintegration support", lambda f: ["dinsos", "ngo"]),
    "travel_document_and_return": ("travel document and return at state cost", lambda f: ["kbri"]),
    "port_reception": ("reception at the port of entry", lambda f: ["bp3mi"]),
    "onward_travel": ("transit shelter and onward travel home", lambda f: ["dinsos"]),
    "domestic_return": ("return within Indonesia", lambda f: ["dinsos", "bp3mi"]),
    "handover_to_mission": ("hand-over to the victim's own mission", lambda f: ["imigrasi"]),
    "family_reintegration": ("family and community acceptance, follow-up visits", lambda f: ["dinsos", "ngo"]),
    "rights_and_empowerment": ("unpaid-rights settlement and empowerment", lambda f: ["bp3mi"]),
}


def kinds_for(service: str, facts: Facts) -> list[str]:
    return SERVICES[service][1](facts)


def describe(service: str) -> str:
    return SERVICES[service][0]
