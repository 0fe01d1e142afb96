"""Reports read only the report-facing tables: never the sealed personal data nor the case keys (SPEC)."""

from __future__ import annotations

import sqlalchemy as sa
from report_kit import C1, NOW

from sinergi.records import CaseRecord
from sinergi.reports import access, breaches, case_known, cases, ctdc, offices


def test_no_report_reads_personal_items_or_case_keys_and_none_needs_the_codec_keys(record):
    statements: list[str] = []
    keyless = CaseRecord.open(record.engine.url.render_as_string(hide_password=False))  # no codec keys at all
    sa.event.listen(keyless.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *args: statements.append(statement))
    try:
        offices(keyless.engine, now=NOW)
        breaches(keyless.engine)
        cases(keyless.engine, now=NOW)
        access(keyless.engine, C1)
        case_known(keyless.engine, C1)
        ctdc(keyless.engine, 2)
    finally:
        keyless.close()

    assert statements
    assert not [s for s in statements if "personal_items" in s or "case_keys" in s]
