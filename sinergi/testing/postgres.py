"""A throwaway PostgreSQL cluster for tests: `initdb` in a temp folder, `pg_ctl` on a free loopback port.

    with postgres_cluster() as cluster:           # PostgresUnavailable when the server binaries are absent
        url = cluster.create_database("t1")       # postgresql://sinergi@127.0.0.1:<port>/t1

Trust authentication, loopback only, the unix socket in the temp folder (never /var/run/postgresql), durability
off (fsync) since the data dies with the test session. PostgreSQL refuses to run as root: as root, the
cluster's files and server belong to the unprivileged `nobody`, as CI (which runs as root) needs.
The binaries: `$SINERGI_POSTGRES_BINDIR` if set (and only there), else the folder of `pg_ctl` on PATH, else the
newest /usr/lib/postgresql/*/bin (Debian's postgresql-15 puts them there, off PATH).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

BINDIR_ENV = "SINERGI_POSTGRES_BINDIR"
USER = "sinergi"  # the cluster's superuser
TOOLS = ("initdb", "pg_ctl", "postgres")
START_TRIES = 3  # a free port may be taken between choosing it and the server binding it


class PostgresUnavailable(Exception):
    """No PostgreSQL server binaries here; the message says what was looked for."""


def find_bindir() -> Path:
    """The folder of `initdb`, `pg_ctl` and `postgres`; `PostgresUnavailable` naming where it looked."""
    candidates: list[Path] = []
    if os.environ.get(BINDIR_ENV):
        candidates.append(Path(os.environ[BINDIR_ENV]))  # set, it is the only place looked in
    else:
        on_path = shutil.which("pg_ctl")
        if on_path:
            candidates.append(Path(on_path).resolve().parent)  # a link on PATH to the versioned folder
        candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True,
                                 key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0))
    for folder in candidates:
        if all((folder / tool).is_file() and os.access(folder / tool, os.X_OK) for tool in TOOLS):
            return folder
    looked = ", ".join(str(c) for c in candidates) or "nowhere: no pg_ctl on PATH, no /usr/lib/postgresql/*/bin"
    raise PostgresUnavailable(f"PostgreSQL server binaries ({', '.join(TOOLS)}) not found (looked in: {looked}; "
                              f"set {BINDIR_ENV}, or install Debian's postgresql-15)")


class PostgresCluster:
    """A running throwaway cluster; `stop` ends it and deletes its folder."""

    def __init__(self, bindir: Path, root: Path, port: int, run_as: pwd.struct_passwd | None) -> None:
        self.bindir, self.root, self.port, self._run_as = bindir, root, port, run_as
        self.data = root / "data"
        self.socket_dir = root

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def start(self) -> None:
        options = (f"-p {self.port} -h 127.0.0.1 -k {self.socket_dir} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "30",
                  "-o", options, "start")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        log = self.root / "server.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    def _run(self, tool: str, *args: str) -> None:
        run_as = self._run_as
        done = subprocess.run([str(self.bindir / tool), *args], capture_output=True, text=True, check=False,
                              env={**os.environ, "LC_ALL": "C"}, cwd=self.root,
                              user=None if run_as is None else run_as.pw_uid,
                              group=None if run_as is None else run_as.pw_gid,
                              extra_groups=None if run_as is None else [])
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args[:3])}… failed ({done.returncode}): "
                               f"{done.stderr.strip() or done.stdout.strip()}\n{self.log_tail()}")


@contextmanager
def postgres_cluster(bindir: Path | None = None) -> Iterator[PostgresCluster]:
    """Start a throwaway cluster and stop it (deleting its files) when the block ends."""
    bindir = bindir or find_bindir()
    run_as = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
    # Not pytest's tmp_path: as root that sits under a 0700 folder the server's user could not enter.
    root = Path(tempfile.mkdtemp(prefix="sinergi-pg-"))
    if run_as is not None:
        os.chown(root, run_as.pw_uid, run_as.pw_gid)
    cluster = PostgresCluster(bindir, root, _free_port(), run_as)
    try:
        cluster._run("initdb", "-D", str(cluster.data), "-U", USER, "-A", "trust", "-E", "UTF8", "--locale=C",
                     "--no-sync", "--no-instructions")
        for attempt in range(START_TRIES):
            try:
                cluster.start()
                break
            except RuntimeError:
                if attempt == START_TRIES - 1:
                    raise
                cluster.port = _free_port()
        yield cluster
    finally:
        cluster.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
