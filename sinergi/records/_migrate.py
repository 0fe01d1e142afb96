"""Migrations of the case record (Alembic), run from code: `migrate(url)` at start-up or by an admin command.

The revisions live in `sinergi/records/migrations/versions/` and ship in the wheel with the package. Each is
a frozen step — never rewritten once released; a schema change is a new revision, and
`tests/records/test_migrations.py` fails when `_schema.py` and the migrated database disagree.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from sinergi.records._engine import WRITES, create_engine
from sinergi.records._errors import RecordUnavailable, SchemaOutOfDate

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Alembic's own lines ("setup plugin ...", "Context impl SQLiteImpl", "Will assume non-transactional DDL") would be
# the first thing `sinergi dev` prints, on every start: quiet unless someone set their level (alembic is imported
# only below, after this); `migrate` logs one line of its own when the schema changed.
if logging.getLogger("alembic").level == logging.NOTSET:
    logging.getLogger("alembic").setLevel(logging.WARNING)
# Alembic's `context` is one proxy per process: two threads migrating at once would run each other's
# migrations on each other's connections. Processes are kept apart by the database (see migrations/env.py).
_ONE_AT_A_TIME = threading.Lock()


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The revision this code's schema is at."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None, "sinergi/records/migrations/versions has no revision"
    return revision


def migrate(url: str | Engine) -> str:
    """Bring the record at `url` (or an engine's) to this code's schema; safe to run again, and concurrently.

    Returns the revision the database is at.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(url) if isinstance(url, str) else url
    config = _config()
    try:
        with _ONE_AT_A_TIME, engine.connect() as connection:
            connection.execution_options(**{WRITES: True})
            with connection.begin():
                config.attributes["connection"] = connection
                before = MigrationContext.configure(connection).get_current_heads()
                command.upgrade(config, "head")
    except sa.exc.OperationalError as exc:
        raise RecordUnavailable(f"cannot migrate the case record: {exc.orig}") from exc
    finally:
        if isinstance(url, str):
            engine.dispose()
    if (before[0] if before else None) != head():
        logging.getLogger("sinergi.records").info("case record migrated from %s to %s",
                                                  before[0] if before else "nothing", head())
    return head()


def current(engine: Engine) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


def check_schema(engine: Engine) -> None:
    """`SchemaOutOfDate` unless the database is at this code's revision."""
    try:
        at = current(engine)
    except sa.exc.OperationalError as exc:
        raise RecordUnavailable(f"cannot reach the case record: {exc.orig}") from exc
    expected = head()
    if at == expected:
        return
    if at is None:
        raise SchemaOutOfDate("the case record has no schema yet: run records.migrate(url)")
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        ScriptDirectory.from_config(_config()).get_revision(at)
    except CommandError:
        raise SchemaOutOfDate(f"the case record is at revision {at!r}, newer than this code's {expected!r}: "
                              "upgrade sinergi") from None
    raise SchemaOutOfDate(f"the case record is at revision {at!r}, this code needs {expected!r}: "
                          "run records.migrate(url)")
