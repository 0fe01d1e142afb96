"""Alembic's environment for the case record: run by `sinergi.records.migrate` on the connection it hands over.

One transaction for the whole upgrade (PostgreSQL and SQLite both have transactional DDL), begun by
`migrate` itself. Workers that start together may all migrate at once: PostgreSQL's advisory lock, and SQLite's
`BEGIN IMMEDIATE`, let one upgrade while the others wait, then find the schema current and do nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from sinergi.records._schema import metadata

# Any fixed number, the same in every version: the advisory lock each process takes before migrating.
MIGRATION_LOCK = 2_202_200_022

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the case record migrates through sinergi.records.migrate(url), not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things: later revisions' op.batch_alter_table copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.run_migrations()
