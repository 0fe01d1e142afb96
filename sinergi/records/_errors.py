"""The case record's errors, translated once at this boundary (SQLAlchemy and cryptography errors never leak)::

    RecordError
    ├── RecordUnavailable    transient: the database cannot be reached or is busy; writing again later may work
    ├── SchemaOutOfDate      the database's schema is not this code's: run `records.migrate(url)`
    ├── UnsupportedUrl       `[records] url` names no database the record can use
    ├── KeyUnavailable       the codec keys cannot open a case's data key (key id absent, or a wrong key)
    └── PersonalDataErased   the case's personal data was erased (`erase`): it can never be read again

Only `RecordUnavailable` is worth retrying; the others are permanent for the same input and configuration.
"""

from __future__ import annotations


class RecordError(Exception):
    """Base of every case-record failure."""


class RecordUnavailable(RecordError):
    """The record's database cannot be reached or is busy now; trying again later may work."""


class SchemaOutOfDate(RecordError):
    """The database has not been migrated to this code's schema (or was migrated by newer code)."""


class UnsupportedUrl(RecordError):
    """`[records] url` is not `sqlite:///<path>` or `postgresql://...`."""


class KeyUnavailable(RecordError):
    """A case's data key cannot be unwrapped: its codec key id is not in the keys file, or the key is wrong.

    The message names the case and the key id only: key material never reaches logs or terminals.
    """


class PersonalDataErased(RecordError):
    """The case's personal data was erased at the data subject's request: no key can read it any more."""

    def __init__(self, case_id: str) -> None:
        super().__init__(f"case {case_id}: its personal data was erased; only the de-identified record remains")
        self.case_id = case_id
