"""From `[records] url` to a SQLAlchemy engine: SQLite (the embedded default) or PostgreSQL through psycopg 3.

SQLite is tuned for several writers (worker threads, a back-fill, a second process): WAL, so readers never
block the writer; a busy timeout, so a writer waits for the lock instead of failing; and `BEGIN IMMEDIATE` for
transactions that write, so two writers never both read first and then deadlock upgrading their locks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from sinergi.platform.config import Settings
from sinergi.records._errors import UnsupportedUrl

RECORDS_FILE = "records.db"  # in `[dev] state_dir` when `[records] url` is unset
SQLITE_BUSY_SECONDS = 30
# Connection option: this connection's transactions write (SQLite begins them IMMEDIATE).
WRITES = "sinergi_writes"


def records_url(settings: Settings) -> str:
    """`[records] url`, a relative SQLite path made absolute against the config's folder; unset, the dev file."""
    url = settings.records.url
    if url is None:
        return f"sqlite:///{settings.dev.state_dir / RECORDS_FILE}"
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_absolute():
        return f"sqlite:///{(settings.config_dir / parsed.database).resolve()}"
    if settings.records.password_file is not None:
        # `[records] password_file`: the password from a secret file, put in the URL only in this process.
        password = settings.records.password_file.read_text("utf-8").strip()
        return parsed.set(password=password).render_as_string(hide_password=False)
    return url


def engine_url(url: str) -> URL:
    """The SQLAlchemy URL with our driver: `postgresql://` and `postgres://` become `postgresql+psycopg://`."""
    try:
        parsed = make_url(url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url)
    except sa.exc.ArgumentError:
        raise UnsupportedUrl(f"[records] url: cannot parse {_safe(url)!r}") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "postgresql" and driver in ("psycopg2", "psycopg"):  # psycopg2 is the dialect's default
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver == "pysqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise UnsupportedUrl("[records] url: an in-memory SQLite record would be lost: give a file path")
        return parsed
    raise UnsupportedUrl(f"[records] url: {_safe(url)!r}: expected sqlite:///<path> or postgresql://...")


def create_engine(url: str, **options: Any) -> Engine:
    """An engine for the record at `url` (its SQLite folder created if needed)."""
    target = engine_url(url)
    if target.get_backend_name() == "postgresql":
        # pre_ping: a connection the server closed (restart, failover) is replaced, not handed to a write.
        return sa.create_engine(target, pool_pre_ping=True, **options)
    Path(target.database or "").parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(target, connect_args={"timeout": SQLITE_BUSY_SECONDS}, **options)
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling begins only before DML, so a read-then-write transaction is
    # not one; we emit BEGIN ourselves (SQLAlchemy's documented recipe for pysqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across a killed process, and fast
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    immediate = connection.get_execution_options().get(WRITES, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _safe(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url.split("@")[-1]
