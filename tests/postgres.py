"""A throwaway PostgreSQL server on loopback, for the tests and the storage benchmark.

It uses the server binaries of Debian's ``postgresql`` package (``.ci/run`` installs it where it is
missing): a new cluster in a temporary directory, a password-protected user, a free port on 127.0.0.1,
stopped and deleted on exit. PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user the package creates.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

USER, PASSWORD = "nas", "nas-test-password"


class Unavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def server_binaries() -> Path:
    """The directory of ``initdb`` and ``pg_ctl``: on the PATH, else Debian's newest version."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not versions:
        raise Unavailable("no PostgreSQL server binaries (install Debian's postgresql package)")
    return versions[-1].parent


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser") is None:
        raise Unavailable("running as root, and no runuser to start PostgreSQL as another user")
    return ["runuser", "-u", "postgres", "--", *command]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def throwaway_server(durable: bool = False) -> Iterator[str]:
    """Start a server; yield its URL (``postgresql://nas:...@127.0.0.1:PORT/postgres``).

    ``durable=False`` turns fsync off: fast, and enough for tests (the data is thrown away).
    """
    bin_dir = server_binaries()
    base = Path(tempfile.mkdtemp(prefix="nas-postgres-"))
    try:
        base.chmod(0o755)
        data, password_file = base / "data", base / "password"
        password_file.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            try:
                shutil.chown(base, "postgres")
                shutil.chown(password_file, "postgres")
            except (LookupError, PermissionError) as err:
                raise Unavailable(
                    f"running as root, and cannot hand the cluster to user postgres: {err}"
                ) from None
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "-A",
                "scram-sha-256",
                f"--pwfile={password_file}",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            "initdb",
        )
        port = _free_port()
        options = f"-h 127.0.0.1 -p {port} -k {base} -c max_connections=300"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(base / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            "pg_ctl start",
        )
        try:
            yield f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
                timeout=60,
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(_as_server_user(command), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise Unavailable(f"{what} failed: {(result.stderr or result.stdout).strip().splitlines()[-1:]}")
