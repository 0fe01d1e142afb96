"""A small record of four cases, written fact by fact as the worker would, whose reports are counted by hand.

    case  province  regency            opened      child  stages
    C1    KALSEL    Kabupaten Banjar   2 Nov 2026  yes    protection 2 Nov 02:00, closed 10 Dec
    C2    KALSEL    Kota Banjarmasin   5 Nov 2026  no     protection 6 Nov, rehabilitation 1 Dec 00:00
    C3    KALSEL    Kota Banjarmasin   3 Dec 2026  no     (identification)
    C4    KALTIM    Kota Samarinda     10 Nov 2026 no     (identification)

Referrals (hours after each was sent; `due` as the case recorded it on the step):

    C1-R1 uptd_ppa_kalsel  sent 2 Nov 01:00 (due +24) · acknowledged +2 (due +50) · accepted +12 · completed 20 Nov
    C2-R1 uptd_ppa_kalsel  sent 5 Nov 00:00 (due +24) · acknowledged +30 (due +78) · declined +100
    C3-R1 uptd_ppa_kalsel  sent 3 Dec 00:00 (due +24) · accepted +10 (no acknowledgement first)
    C1-R2 dinsos_kalsel    sent 3 Nov 00:00 (due +24) · nothing since
    C2-R2 dinsos_kalsel    sent 6 Nov 00:00 (due +24) · acknowledged +4 (due +52) · nothing since
    C4-R1 dinsos_kaltim    sent 10 Nov 00:00 (due +24) · acknowledged +1 (due +49) · accepted +5

Times are UTC; every report here is asked in UTC unless a test says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sinergi.records import (
    CaseOpened,
    ClockChanged,
    DecodeAudited,
    Delivery,
    Fact,
    NoticeSent,
    PageUnlocked,
    ReferralStep,
    StageChanged,
)
from sinergi.testing.cases import intake

C1, C2, C3, C4 = "KALSEL-2026-AAAAAAA1", "KALSEL-2026-AAAAAAA2", "KALSEL-2026-AAAAAAA3", "KALTIM-2026-AAAAAAA4"
NOW = datetime(2027, 1, 15, tzinfo=UTC)
NOV = datetime(2026, 11, 1, tzinfo=UTC)
DEC = datetime(2026, 12, 1, tzinfo=UTC)
JAN = datetime(2027, 1, 1, tzinfo=UTC)
T1_LAW = "UU 21/2007 Art. 52(1)"
T11_LAW = "UU 12/2022 Art. 41"
S3_SOURCE = "sinergi default (no statute)"
MANY = 150  # cases of `sample_case` in the `many_cases` record


def day(month: int, day_: int, hour: float = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day_, tzinfo=UTC) + timedelta(hours=hour)


def opened(case_id: str, at: datetime, province: str, regency: str, age: int, **overrides) -> CaseOpened:
    base = dict(case_id=case_id, opened_at=at, year=at.year, province=province, regency_name=regency,
                is_child=age < 18, gender="F", age_at_intake=age, citizenship="ID", country_of_exploitation="MY",
                exploitation=["forced_labour"], means_of_control=["withholds_documents"], is_pmi=True,
                procedural=False)
    return CaseOpened(**(base | overrides))


def _referral(case_id: str, referral_id: str, office: str, kind: str, sent: datetime,
              *steps: tuple[str, float, float | None]) -> list[ReferralStep]:
    """The `sent` step (due 24 h later), then (state, hours after sending, due hours after sending) steps."""
    out = [ReferralStep(case_id=case_id, referral_id=referral_id, service="shelter", kind=kind, office=office,
                        state="sent", at=sent, due_at=sent + timedelta(hours=24))]
    for state, after, due in steps:
        out.append(ReferralStep(case_id=case_id, referral_id=referral_id, service="shelter", kind=kind,
                                office=office, state=state, at=sent + timedelta(hours=after),
                                due_at=None if due is None else sent + timedelta(hours=due)))
    return out


def _clock(case_id: str, rule: str, change: str, at: datetime, source: str, office: str | None = None,
           rung: int | None = None) -> ClockChanged:
    return ClockChanged(case_id=case_id, clock_id=f"{rule}-1", rule=rule, change=change, at=at, source=source,
                        office=office, rung=rung)


def facts() -> list[Fact]:
    return [
        # The cases and their stages.
        opened(C1, day(11, 2), "KALSEL", "Kabupaten Banjar", 16),
        StageChanged(case_id=C1, stage="protection", at=day(11, 2, 2)),
        StageChanged(case_id=C1, stage="closed", at=day(12, 10)),
        opened(C2, day(11, 5), "KALSEL", "Kota Banjarmasin", 30, gender="M", country_of_exploitation="ID",
                exploitation=["sexual_exploitation"], means_of_control=[], is_pmi=False),
        StageChanged(case_id=C2, stage="protection", at=day(11, 6)),
        StageChanged(case_id=C2, stage="rehabilitation", at=day(12, 1)),
        opened(C3, day(12, 3), "KALSEL", "Kota Banjarmasin", 24,
                exploitation=["forced_labour", "sexual_exploitation"], means_of_control=["debt_bondage"]),
        opened(C4, day(11, 10), "KALTIM", "Kota Samarinda", 40),
        # Referrals.
        *_referral(C1, f"{C1}-R1", "uptd_ppa_kalsel", "uptd_ppa", day(11, 2, 1),
                   ("acknowledged", 2, 50), ("accepted", 12, None), ("completed", 18 * 24 - 1, None)),
        *_referral(C2, f"{C2}-R1", "uptd_ppa_kalsel", "uptd_ppa", day(11, 5),
                   ("acknowledged", 30, 78), ("declined", 100, None)),
        *_referral(C3, f"{C3}-R1", "uptd_ppa_kalsel", "uptd_ppa", day(12, 3), ("accepted", 10, None)),
        *_referral(C1, f"{C1}-R2", "dinsos_kalsel", "dinsos", day(11, 3)),
        *_referral(C2, f"{C2}-R2", "dinsos_kalsel", "dinsos", day(11, 6), ("acknowledged", 4, 52)),
        *_referral(C4, f"{C4}-R1", "dinsos_kaltim", "dinsos", day(11, 10), ("acknowledged", 1, 49),
                   ("accepted", 5, None)),
        # Clocks: starts and stops are not missed deadlines; escalations climb the ladder of the one missed.
        _clock(C1, "T1", "start", day(11, 5), T1_LAW, "dinsos_kalsel"),
        _clock(C1, "T1", "breach", day(11, 12), T1_LAW, "dinsos_kalsel"),
        _clock(C1, "T1", "escalation", day(11, 12), T1_LAW, "dinsos_kalsel", rung=1),
        _clock(C1, "T1", "escalation", day(11, 13), T1_LAW, "dinsos_kalsel", rung=2),
        _clock(C1, "S3", "warning", day(11, 4, 1), S3_SOURCE, "dinsos_kalsel"),
        _clock(C1, "S3", "escalation", day(11, 4, 1), S3_SOURCE, "dinsos_kalsel", rung=1),
        _clock(C2, "T1", "breach", day(12, 2), T1_LAW, "dinsos_kalsel"),
        _clock(C2, "T1", "escalation", day(12, 2), T1_LAW, "dinsos_kalsel", rung=1),
        _clock(C2, "T11", "breach", day(11, 8), T11_LAW, "uptd_ppa_kalsel"),
        *(_clock(C2, "T11", "escalation", day(11, 8, rung), T11_LAW, "gugus_tugas_kalsel", rung=rung)
          for rung in (1, 2, 3)),
        _clock(C2, "T11", "stop", day(11, 9), T11_LAW, "uptd_ppa_kalsel"),
        _clock(C4, "T1", "breach", day(11, 15), T1_LAW, "dinsos_kaltim"),
        # Who received or saw C1's data.
        Delivery(case_id=C1, office="uptd_ppa_kalsel", fields=["person.full_name", "person.sex"], at=day(11, 2, 1),
                 how="referral", ref=f"{C1}-R1", purpose="shelter", mandated_by="UU 21/2007 Art. 51"),
        PageUnlocked(case_id=C1, referral_id=f"{C1}-R2", office="dinsos_kalsel", fields=["person.full_name"],
                     at=day(11, 3, 5)),
        NoticeSent(case_id=C1, notice_id=f"{C1}-N1", purpose="escalation", office="dinsos_kalsel",
                   province="KALSEL", clock="T1", source=T1_LAW, rung=1, at=day(11, 12)),
        Delivery(case_id=C1, office="gugus_tugas_kalsel", fields=["province", "regency"], at=day(11, 12),
                 how="notice", ref=f"{C1}-N1", purpose="escalation"),
        DecodeAudited(case_id=C1, audit_id="req-1", workflow_id=f"case-{C1}", who="operator:ana", role="case_manager",
                      masked=False, at=day(11, 20)),
        DecodeAudited(case_id=C1, audit_id="req-2", workflow_id=f"case-{C1}", who="operator:budi",
                      role="case_manager", masked=True, at=day(11, 21)),
    ]


def sample_case(case_id: str, index: int) -> CaseOpened:
    """A case opened from the sample intake (a real person block, sealed), varied by `index`."""
    ages = (16, 22, 25, 28, 31, 35, 44, 52, None)
    countries = ("MY", "MY", "MY", "SA", "ID", "HK", "MY", "TW", "SG")
    age = ages[index % len(ages)]
    person = {"sex": "FM"[index % 3 == 0], "nationality": "ID" if index % 7 else "PH"}
    if index % 5:  # else the sample's own date of birth (2001-03-14) stays, and gives the age
        person |= {"date_of_birth": None, "age_estimate": age}
    situation = {"location_country": countries[index % len(countries)], "is_pmi": index % 4 != 0,
                 "exploitation": [["forced_labour"], ["sexual_exploitation"], ["forced_labour", "begging"]][index % 3],
                 "means_of_control": [["debt_bondage"], ["withholds_documents", "threats"], []][index % 3]}
    received = datetime(2025 + index % 2, 1 + index % 12, 1 + index % 27, 8, tzinfo=UTC)
    return CaseOpened.from_intake(case_id, intake(person=person, situation=situation,
                                                  received_at=received.isoformat()), received)
