"""`export ctdc`: HTCDS-aligned rows, no identifier, and k-anonymous — checked here without the exporter's help."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime

import pytest
from report_kit import MANY, opened, sample_case

from sinergi.reports import ctdc
from sinergi.testing.cases import SAMPLE_DOB, SAMPLE_NAME, SAMPLE_PHONE

# What someone who knows a victim could know of them; the test's own list, not the exporter's.
QUASI_IDENTIFIERS = ("yearOfRegistration", "gender", "ageBroad", "majorityStatus", "citizenship",
                     "CountryOfExploitation", "isPMI")


def smallest_group(rows: list[dict[str, str]]) -> int:
    """k of the rows: the size of the smallest group of rows sharing every quasi-identifier value."""
    groups = Counter(tuple(row[q] for q in QUASI_IDENTIFIERS) for row in rows)
    return min(groups.values())


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("k", [5, 11])
def test_every_combination_of_quasi_identifiers_is_shared_by_at_least_k_rows(many_cases, k):
    export = ctdc(many_cases.engine, k)
    rows = read_csv(export.csv())

    assert rows, "the sample is large enough to export something"
    assert smallest_group(rows) >= k
    assert len(rows) + export.suppressed_rows == MANY


def test_the_export_holds_no_case_id_name_phone_date_of_birth_or_place_below_the_country(many_cases):
    text = ctdc(many_cases.engine).csv()

    # The regency by name and by code: the sample intake keeps it as 63.03 (SPEC "Places").
    for secret in ("KALSEL-2026-S", SAMPLE_NAME, SAMPLE_PHONE, SAMPLE_DOB, "2001", "Kabupaten Banjar", "63.03",
                   "officer-17", "bp3mi"):
        assert secret not in text
    assert not {"case_id", "caseId", "regency", "opened_at", "dateOfBirth"} & set(read_csv(text)[0])


def test_rows_are_generalised_as_little_as_k_needs_and_the_rest_suppressed(empty_record):
    # k = 3. Seven women abroad in Malaysia aged 25 (×3), 22 (×2) and 28 (×2), one man of 40 in Saudi Arabia:
    # widening the age bands to 18--29 joins the women (7 cells generalised); nothing can join the man.
    opened_at = datetime(2026, 5, 1, tzinfo=UTC)
    ages = [25, 25, 25, 22, 22, 28, 28]
    empty_record.write([opened(f"KALSEL-2026-W{i}", opened_at, "KALSEL", "Kota Banjarbaru", age)
                        for i, age in enumerate(ages)]
                       + [opened("KALSEL-2026-M1", opened_at, "KALSEL", "Kota Banjarbaru", 40, gender="M",
                                 country_of_exploitation="SA")])

    export = ctdc(empty_record.engine, 3)

    assert (export.generalised_cells, export.suppressed_rows) == (7, 1)
    assert export.rungs["ageBroad"] == "wide age band"
    assert {(r["gender"], r["ageBroad"], r["majorityStatus"], r["CountryOfExploitation"]) for r in export.rows} == {
        ("Female", "18--29", "Adult", "MY")}
    assert len(export.rows) == 7


def test_values_are_mapped_from_the_intake_vocabulary_to_htcds(empty_record):
    opened_at = datetime(2026, 5, 1, tzinfo=UTC)
    empty_record.write([opened(f"KALSEL-2026-V{i}", opened_at, "KALSEL", "Kota Banjarbaru", 17,
                               exploitation=["forced_labour", "sexual_exploitation", "begging"],
                               means_of_control=["debt_bondage", "confiscated_phone"]) for i in range(3)])

    export = ctdc(empty_record.engine, 3)
    row = export.rows[0]

    assert (row["yearOfRegistration"], row["gender"], row["ageBroad"], row["majorityStatus"]) == (
        "2026", "Female", "9--17", "Minor")
    assert (row["citizenship"], row["CountryOfExploitation"], row["isPMI"], row["isProcedural"]) == (
        "ID", "MY", "1", "0")
    assert (row["isForcedLabour"], row["isSexualExploit"], row["isSexAndLabour"], row["isOtherExploit"]) == (
        "1", "1", "1", "1")
    assert row["typeOfExploitConcatenated"] == "Forced labour; Other; Sexual exploitation"
    assert (row["meansOfControlDebtBondage"], row["meansOfControlOther"], row["meansOfControlNotSpecified"]) == (
        "1", "1", "0")
    assert (row["recruiterRelationUnknown"], row["recruiterRelationFamily"]) == ("1", "0")  # not asked: unknown
    assert export.unmapped == {"exploitation:begging": 3, "means_of_control:confiscated_phone": 3}


def test_the_recruiter_relation_the_intake_gives_is_its_htcds_column(empty_record):
    from sinergi.reports._ctdc import RECRUITER_RELATIONS

    opened_at = datetime(2026, 5, 1, tzinfo=UTC)
    relations = ["family", "family", "friend", "intimate_partner", "other", "unknown", None]
    empty_record.write([opened(f"KALSEL-2026-R{i}", opened_at, "KALSEL", "Kota Banjarbaru", 30,
                               recruiter_relation=relation) for i, relation in enumerate(relations)])

    rows = ctdc(empty_record.engine, 2).rows

    assert len(rows) == len(relations)
    assert all(sum(row[column] == "1" for column in RECRUITER_RELATIONS.values()) == 1 for row in rows)
    counts = {column: sum(row[column] == "1" for row in rows) for column in RECRUITER_RELATIONS.values()}
    assert counts == {"recruiterRelationIntimatePartner": 1, "recruiterRelationFriend": 1,
                      "recruiterRelationFamily": 2, "recruiterRelationOther": 1, "recruiterRelationUnknown": 2}


def test_fewer_cases_than_k_export_nothing(empty_record):
    empty_record.write([sample_case(f"KALSEL-2026-F{i}", i) for i in range(4)])
    export = ctdc(empty_record.engine)
    assert (export.rows, export.suppressed_rows) == ([], 4)
    assert export.csv().splitlines()[0].startswith("yearOfRegistration,gender,ageBroad")


def test_k_below_two_protects_no_one_and_is_refused(empty_record):
    with pytest.raises(ValueError, match="at least 2"):
        ctdc(empty_record.engine, 1)
