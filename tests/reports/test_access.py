"""`report access CASE`: who received or saw which fields of the victim, when and how — names, never values."""

from __future__ import annotations

from report_kit import C1, C2, day

from sinergi.reports import access, case_known


def test_every_delivery_of_the_victims_fields_oldest_first(record):
    found = [(r.office, r.fields, r.at, r.how) for r in access(record.engine, C1)]
    assert found == [
        ("uptd_ppa_kalsel", ["person.full_name", "person.sex"], day(11, 2, 1), "referral"),
        ("dinsos_kalsel", ["person.full_name"], day(11, 3, 5), "page"),  # the unlock is a delivery
        ("gugus_tugas_kalsel", ["province", "regency"], day(11, 12), "notice"),
        ("operator:ana", ["*"], day(11, 20), "decode"),  # unmasked, every field
        # budi's decode showed the case's structure, no value of the victim: listed, with no field.
        ("operator:budi", [], day(11, 21), "decode_masked"),
    ]


def test_a_delivery_says_for_what_and_under_which_mandate(record):
    first = access(record.engine, C1)[0]
    assert (first.purpose, first.mandated_by) == ("shelter", "UU 21/2007 Art. 51")


def test_a_case_nothing_was_delivered_of_is_known_with_an_empty_report(record):
    assert access(record.engine, C2) == []
    assert case_known(record.engine, C2)
    assert not case_known(record.engine, "KALSEL-2026-NOTACASE")
