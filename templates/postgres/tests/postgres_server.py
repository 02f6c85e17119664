"""A PostgreSQL for the tests: the one at DATABASE_URL, or a throwaway cluster started with
`initdb` and `pg_ctl` in a temporary directory, listening on 127.0.0.1 only."""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Postgres:
    url: str
    """postgresql:// URL of a database the tests may empty."""
    data: Path | None = None
    """The throwaway cluster's directory; None for DATABASE_URL's database."""
    options: str = ""
    owner: str | None = None

    def pg_ctl(self, *args: str) -> None:
        assert self.data is not None, "only a cluster the tests started can be stopped"
        run([tool("pg_ctl"), "-D", str(self.data), "-w", *args], self.owner)

    def start(self) -> None:
        assert self.data is not None
        self.pg_ctl("-o", self.options, "-l", str(self.data.parent / "log"), "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")


def tool(name: str) -> str:
    """A PostgreSQL program: on PATH, or where Debian installs it (not on PATH)."""
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise LookupError(name)
    return found


def available() -> str | None:
    """Why no PostgreSQL can be had here, or None when one can."""
    if os.environ.get("DATABASE_URL"):
        return None
    try:
        tool("initdb")
    except LookupError:
        return "no PostgreSQL: set DATABASE_URL, or install PostgreSQL (initdb) to run these tests"
    return None


def run(command: list[str], owner: str | None) -> None:
    prefix = ["runuser", "-u", owner, "--"] if owner else []
    subprocess.run(prefix + command, check=True, capture_output=True, timeout=120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    if url := os.environ.get("DATABASE_URL"):
        yield Postgres(url)
        return
    # initdb refuses to run as root: then the cluster belongs to the `postgres` user.
    owner = pwd.getpwnam("postgres").pw_name if os.geteuid() == 0 else None
    with tempfile.TemporaryDirectory(prefix="pg-tests-") as root:
        data = Path(root) / "data"
        if owner:
            shutil.chown(root, user=owner)
        run([tool("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"], owner)
        port = free_port()
        options = f"-c listen_addresses=127.0.0.1 -c port={port} -k {root} -c fsync=off"
        server = Postgres(f"postgresql://postgres@127.0.0.1:{port}/postgres", data, options, owner)
        server.start()
        try:
            yield server
        finally:
            server.pg_ctl("-m", "immediate", "stop")
