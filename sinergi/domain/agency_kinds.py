"""The agency codes of DOMAIN §2, used in configuration, routing and escalation."""

from __future__ import annotations

from typing import Literal

AgencyKind = Literal[
    "bp3mi", "uptd_ppa", "polri", "lpsk", "dinsos", "dinkes", "kbri", "imigrasi", "gugus_tugas", "ngo"
]

AGENCY_KINDS: dict[str, str] = {
    "bp3mi": "BP3MI / KP2MI",
    "uptd_ppa": "UPTD PPA",
    "polri": "Police (Unit PPA)",
    "lpsk": "LPSK",
    "dinsos": "Social affairs (Dinas Sosial)",
    "dinkes": "Health (Dinas Kesehatan)",
    "kbri": "Indonesian mission abroad (KBRI/KJRI)",
    "imigrasi": "Immigration",
    "gugus_tugas": "Anti-trafficking task force (Gugus Tugas PP-TPPO)",
    "ngo": "NGO / IOM / legal aid",
}
