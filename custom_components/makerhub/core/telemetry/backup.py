"""Backups of the telemetry database with ``pg_dump`` (Debian's ``postgresql-client``).

The dump is PostgreSQL's custom format of the whole database named by the DSN (with
TimescaleDB, a hypertable's rows live in internal schemas, so dumping one schema would
miss them). It is written to ``<name>.partial`` and renamed when ``pg_dump`` succeeds, so
a file with the final name is always complete. The password reaches ``pg_dump`` through
its environment, never its command line. Restoring is described in ``docs/telemetry.md``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import os
from pathlib import Path
import shutil
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from .dsn import SECRET_PARAMS, Dsn
from .errors import BackupError

PG_DUMP: Final = "pg_dump"
FILE_PREFIX: Final = "makerhub-telemetry"


def backup_file_name(database: str, now: datetime) -> str:
    """Return ``makerhub-telemetry-<database>-<UTC time>.dump``."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in database)
    return f"{FILE_PREFIX}-{safe}-{stamp}.dump"


def _dsn_without_password(dsn: Dsn) -> str:
    user = f"{quote(dsn.user, safe='')}@" if dsn.user else ""
    database = quote(dsn.database or "", safe="")
    host = f"[{dsn.host}]" if ":" in dsn.host else dsn.host
    params = [
        (key, value)
        for key, value in parse_qsl(urlsplit(dsn.reveal()).query, keep_blank_values=True)
        if key not in SECRET_PARAMS
    ]
    query = f"?{urlencode(params)}" if params else ""
    return f"postgresql://{user}{host}:{dsn.port}/{database}{query}"


async def backup_database(
    dsn: Dsn,
    directory: Path,
    *,
    now: datetime | None = None,
    pg_dump: str = PG_DUMP,
    time_limit: float = 3600.0,
) -> Path:
    """Dump the database to a new timestamped file in ``directory``; return its path."""
    executable = shutil.which(pg_dump)
    if executable is None:
        raise BackupError(
            f"{pg_dump} is not installed: backups need PostgreSQL's client tools (Debian: "
            "apt-get install postgresql-client). Home Assistant OS and the Home Assistant "
            "container have none; back the database up where it runs instead (the "
            "TimescaleDB add-on is part of Home Assistant's own backups)"
        )
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    target = directory / backup_file_name(dsn.database or "postgres", now or datetime.now(UTC))
    partial = target.with_name(target.name + ".partial")
    env = {**os.environ, "PGAPPNAME": "makerhub-telemetry-backup"}
    if dsn.password:
        env["PGPASSWORD"] = dsn.password
    process = await asyncio.create_subprocess_exec(
        executable,
        "--format=custom",
        "--no-password",
        f"--file={partial}",
        f"--dbname={_dsn_without_password(dsn)}",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        async with asyncio.timeout(time_limit):
            _, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump of {dsn.target} took longer than {time_limit:.0f} s") from None
    if process.returncode != 0:
        partial.unlink(missing_ok=True)
        message = dsn.redact(stderr.decode(errors="replace").strip())
        raise BackupError(f"pg_dump of {dsn.target} failed ({process.returncode}): {message}")
    partial.replace(target)
    return target
