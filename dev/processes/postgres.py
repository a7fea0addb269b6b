"""Real PostgreSQL: databases on the shared server, and private servers (tests).

The shared server (127.0.0.1:5432, trust auth, user postgres) is reached with ``psql`` in
a subprocess, so fixtures work before the harness unblocks sockets. A
:class:`PostgresServer` is a private cluster (``initdb`` + ``pg_ctl``) on its own port,
for tests that stop the database, need roles with passwords or TLS; it runs as the
``postgres`` user when the tests run as root, since ``initdb`` refuses root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path
import pwd
import shutil
import subprocess
import tempfile
import uuid

from .ports import free_port

SHARED_HOST = "127.0.0.1"
SHARED_PORT = 5432
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def psql(sql: str, *, database: str = "postgres", port: int = SHARED_PORT) -> str:
    """Run SQL with psql as postgres on 127.0.0.1; return its output, raise on error."""
    result = subprocess.run(
        [
            "psql",
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            SHARED_HOST,
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    if result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr.strip()}")
    return result.stdout.strip()


def unique_name(prefix: str) -> str:
    """Return a database or schema name no other test run uses."""
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def create_database(name: str, *, port: int = SHARED_PORT) -> None:
    """Create an empty database."""
    psql(f'CREATE DATABASE "{name}"', port=port)


def drop_database(name: str, *, port: int = SHARED_PORT) -> None:
    """Drop a database this run created, closing its connections."""
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', port=port)


def dsn(
    database: str, *, port: int = SHARED_PORT, user: str = "postgres", password: str = ""
) -> str:
    """Return a DSN for 127.0.0.1."""
    secret = f":{password}" if password else ""
    return f"postgresql://{user}{secret}@{SHARED_HOST}:{port}/{database}"


@dataclass(frozen=True)
class ServerTls:
    """A private server's certificate and key, and the CA its clients' certificates need."""

    cert: Path
    key: Path
    client_ca: Path

    def install(self, data: Path) -> list[str]:
        """Copy the files into the data directory; return the settings that use them."""
        for source, name in ((self.cert, "server.crt"), (self.key, "server.key")):
            shutil.copyfile(source, data / name)
        shutil.copyfile(self.client_ca, data / "client_ca.crt")
        (data / "server.key").chmod(0o600)  # the server refuses a key others may read
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            for name in ("server.crt", "server.key", "client_ca.crt"):
                os.chown(data / name, entry.pw_uid, entry.pw_gid)
        return ["ssl = on", "ssl_ca_file = 'client_ca.crt'"]


@dataclass
class PostgresServer:
    """A private PostgreSQL 15 cluster on 127.0.0.1:<port>, restartable mid-test."""

    port: int = field(default_factory=free_port)
    password_roles: tuple[str, ...] = ("secretive",)
    """Roles that must log in with a password (scram); every other role is trusted."""
    tls: ServerTls | None = None
    """With TLS (``ssl = on``) when given; without, like ``initdb``'s default."""
    hba: tuple[str, ...] = ()
    """More ``pg_hba.conf`` lines, before the password roles' and the catch-all."""
    directory: Path = field(init=False)

    def __post_init__(self) -> None:
        """Pick a directory the server's user can own."""
        self.directory = Path(tempfile.mkdtemp(prefix="makerhub-pg-"))

    @property
    def data(self) -> Path:
        """Return the cluster's data directory."""
        return self.directory / "data"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.directory / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {result.stderr.strip()}\n{tail}")
        return result

    def init(self) -> None:
        """Create the cluster with its config (no Unix socket, fsync off: tests only)."""
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            "unix_socket_directories = ''",
            "fsync = off",  # the OS keeps what a killed server wrote; commits stay synchronous
            "full_page_writes = off",
            "shared_buffers = 16MB",
            "max_connections = 30",
            "password_encryption = 'scram-sha-256'",
        ]
        if self.tls is not None:
            settings += self.tls.install(self.data)
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")
        hba = list(self.hba)
        hba += [f"host all {role} 127.0.0.1/32 scram-sha-256" for role in self.password_roles]
        hba.append("host all all 127.0.0.1/32 trust")
        (self.data / "pg_hba.conf").write_text("\n".join(hba) + "\n")

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "server.log"),
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop (``fast`` closes sessions, ``immediate`` is a crash)."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    @property
    def running(self) -> bool:
        """Return whether the postmaster runs."""
        return (self.data / "postmaster.pid").exists()

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run SQL as postgres on this server."""
        return psql(sql, database=database, port=self.port)

    def ensure_role(self, name: str, password: str | None = None) -> None:
        """Create a login role unless it exists (roles outlive a test's database)."""
        secret = f" PASSWORD '{password}'" if password else ""
        self.psql(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') "
            f"THEN CREATE ROLE {name} LOGIN{secret}; END IF; END $$"
        )

    def dsn(self, database: str = "postgres", *, user: str = "postgres", password: str = "") -> str:
        """Return a DSN for this server."""
        return dsn(database, port=self.port, user=user, password=password)

    def destroy(self) -> None:
        """Stop if running and remove the cluster."""
        if self.running:
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
