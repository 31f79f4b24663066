"""A real PostgreSQL server (Debian's packages, `make postgres`) in a temporary folder, on loopback."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.smtp import free_port

DATABASE = "dagster"
USER = "warehouse"


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if found:
        return found[-1]
    if path := shutil.which(name):
        return path
    pytest.fail(f"PostgreSQL's {name} is not installed: `make postgres` installs Debian's postgresql (make test does)")


class PostgresServer:
    """``initdb`` a cluster (trust authentication, loopback only) and run it for the block's length."""

    def __init__(self):
        self.port = free_port()
        # PostgreSQL refuses to run as root: then it runs as the `postgres` user, in a folder of its own
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.root = Path(tempfile.mkdtemp(prefix="warehouse-pg-"))
        self.data = self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self._as, *command], capture_output=True, text=True, cwd=self.root)
        if done.returncode:
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}"
            )

    def __enter__(self) -> PostgresServer:
        if self._as:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self._run(_bin("initdb"), "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-locale")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run(
            _bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start"
        )
        self._run(_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DATABASE)
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def query(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        import psycopg2  # what dagster-postgres itself uses

        con = psycopg2.connect(self.url)
        try:
            with con.cursor() as cursor:
                cursor.execute(sql, parameters)
                return cursor.fetchall()
        finally:
            con.close()
