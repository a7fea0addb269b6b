"""TLS of telemetry connections: every ``sslmode`` against real servers, with and without TLS.

A private server with TLS (certificates of a throwaway CA; its certificate names
``localhost`` only, so ``verify-full`` to 127.0.0.1 must fail), the shared server and a
private one without TLS. Whether a session is encrypted is asked of the server
(``pg_stat_ssl``). ``HOME`` and the ``PGSSL*`` variables are the test's own, so libpq's
defaults (``~/.postgresql/``) come only from files a test puts there.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from custom_components.makerhub.core.telemetry import (
    Dsn,
    DsnError,
    DsnErrorKind,
    TelemetryConfig,
    TelemetryStore,
)
from custom_components.makerhub.core.telemetry.dsn import connect
from custom_components.makerhub.core.telemetry.tls import SslMode
from dev.processes.postgres import PostgresServer, dsn, psql
from tests.helpers.postgres_tls import KEY_PASSWORD, TLSSECRET_PASSWORD, Pki

from .telemetry_helpers import FAST, T0


@pytest.fixture(autouse=True)
def own_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Give the test an empty home and no PGSSL* variables; return the home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for variable in (
        "PGSSLMODE",
        "PGSSLROOTCERT",
        "PGSSLCERT",
        "PGSSLKEY",
        "PGSSLCRL",
        "PGSSLMINPROTOCOLVERSION",
        "PGSSLMAXPROTOCOLVERSION",
        "PGSSLNEGOTIATION",
    ):
        monkeypatch.delenv(variable, raising=False)
    return home


def url(server: PostgresServer, query: str = "", *, user: str = "postgres", host: str = "") -> str:
    """Return a DSN for ``server`` (``host`` instead of 127.0.0.1 if given) with ``query``."""
    address = server.dsn(user=user)
    if host:
        address = address.replace("@127.0.0.1:", f"@{host}:")
    return f"{address}?{query}" if query else address


def files(pki: Pki, query: str) -> str:
    """Fill ``{ca}``, ``{other_ca}``, ``{crl}``, ``{cert}``, ``{key}``, ``{locked_*}``."""
    return query.format(
        ca=pki.ca,
        other_ca=pki.other_ca,
        crl=pki.crl,
        cert=pki.client.cert,
        key=pki.client.key,
        locked_cert=pki.locked_client.cert,
        locked_key=pki.locked_client.key,
    )


async def session_tls(address: str) -> asyncpg.Record:
    """Connect as the store does; return the server's ``pg_stat_ssl`` row of the session."""
    conn = await connect(Dsn(address), connect_timeout=5)
    try:
        row = await conn.fetchrow(
            "SELECT ssl, version, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        )
    finally:
        await conn.close()
    assert row is not None
    return row


@pytest.mark.parametrize(
    ("query", "user", "host", "encrypted"),
    [
        pytest.param("", "postgres", "", True, id="no-sslmode-is-prefer"),
        pytest.param("sslmode=disable", "postgres", "", False, id="disable"),
        pytest.param("sslmode=allow", "postgres", "", False, id="allow-plain-first"),
        pytest.param("sslmode=allow", "tlsonly", "", True, id="allow-falls-back-to-tls"),
        pytest.param("sslmode=prefer", "plainonly", "", False, id="prefer-falls-back-to-plain"),
        pytest.param("sslmode=require", "postgres", "", True, id="require-does-not-verify"),
        pytest.param("sslmode=verify-ca&sslrootcert={ca}", "postgres", "", True, id="verify-ca"),
        pytest.param(
            "sslmode=verify-full&sslrootcert={ca}", "postgres", "localhost", True, id="verify-full"
        ),
        pytest.param(
            "sslmode=verify-full&sslrootcert={ca}&sslcert={cert}&sslkey={key}",
            "certuser",
            "localhost",
            True,
            id="client-certificate",
        ),
        pytest.param(
            f"sslcert={{locked_cert}}&sslkey={{locked_key}}&sslpassword={KEY_PASSWORD}",
            "certuser",
            "",
            True,
            id="client-key-with-password",
        ),
    ],
)
async def test_sslmodes_against_a_tls_server(
    socket_enabled: None,
    tls_postgres: PostgresServer,
    pki: Pki,
    query: str,
    user: str,
    host: str,
    encrypted: bool,
) -> None:
    """Each mode encrypts exactly when libpq would, falling back the way it does."""
    row = await session_tls(url(tls_postgres, files(pki, query), user=user, host=host))
    assert row["ssl"] is encrypted
    if user == "certuser":
        assert row["client_dn"] == "/CN=certuser"


@pytest.mark.parametrize(
    ("query", "user", "host", "kind", "fragment"),
    [
        pytest.param(
            "sslmode=verify-full&sslrootcert={ca}",
            "postgres",
            "",
            DsnErrorKind.TLS_FAILED,
            "IP address mismatch",
            id="verify-full-checks-the-host",
        ),
        pytest.param(
            "sslmode=verify-ca&sslrootcert={other_ca}",
            "postgres",
            "",
            DsnErrorKind.TLS_FAILED,
            "does not verify",
            id="verify-ca-checks-the-ca",
        ),
        pytest.param(
            "sslmode=verify-ca&sslrootcert={ca}&sslcrl={crl}",
            "postgres",
            "",
            DsnErrorKind.TLS_FAILED,
            "certificate revoked",
            id="crl",
        ),
        pytest.param(
            "sslmode=verify-full",
            "postgres",
            "localhost",
            DsnErrorKind.TLS_FAILED,
            "sslmode=verify-full needs the certificate of the CA",
            id="verify-full-without-root-certificate",
        ),
        pytest.param(
            "sslmode=require&sslrootcert=/nonexistent/root.crt",
            "postgres",
            "",
            DsnErrorKind.TLS_FAILED,
            "sslrootcert /nonexistent/root.crt cannot be used: No such file or directory",
            id="missing-root-certificate",
        ),
        pytest.param(
            "sslmode=verify-ca&sslrootcert={cert}&sslcert={key}",
            "postgres",
            "",
            DsnErrorKind.TLS_FAILED,
            "sslcert",
            id="key-given-as-certificate",
        ),
        pytest.param(
            "sslcert={locked_cert}&sslkey={locked_key}&sslpassword=wrong-pass",
            "certuser",
            "",
            DsnErrorKind.TLS_FAILED,
            "cannot be used",
            id="wrong-key-password",
        ),
        pytest.param(
            "sslmode=require&ssl_min_protocol_version=TLSv1.3&ssl_max_protocol_version=TLSv1.2",
            "postgres",
            "",
            DsnErrorKind.TLS_FAILED,
            "no protocols available",
            id="handshake-fails",
        ),
        pytest.param(
            "sslmode=require",
            "certuser",
            "",
            DsnErrorKind.AUTH_FAILED,
            "certificate",
            id="client-certificate-missing",
        ),
        pytest.param(
            "sslmode=disable",
            "tlsonly",
            "",
            DsnErrorKind.AUTH_FAILED,
            "rejects connection",
            id="disable-to-a-tls-only-role",
        ),
    ],
)
async def test_tls_failures_are_precise(
    socket_enabled: None,
    tls_postgres: PostgresServer,
    pki: Pki,
    query: str,
    user: str,
    host: str,
    kind: DsnErrorKind,
    fragment: str,
) -> None:
    """A certificate that does not verify, a file that cannot be used: one precise error."""
    secret = "sslpassword=wrong-pass"
    with pytest.raises(DsnError) as caught:
        await session_tls(url(tls_postgres, files(pki, query), user=user, host=host))
    assert caught.value.kind is kind
    assert fragment in str(caught.value)
    if secret in query:
        assert "wrong-pass" not in str(caught.value)


async def test_prefer_reports_the_wrong_password_not_the_plain_refusal(
    socket_enabled: None, tls_postgres: PostgresServer
) -> None:
    """TLS says wrong password, plain says no pg_hba entry: the password is what is wrong."""
    address = tls_postgres.dsn(user="tlssecret", password="wr0ng-0ne")
    with pytest.raises(DsnError) as caught:
        await session_tls(address)
    assert caught.value.kind is DsnErrorKind.AUTH_FAILED
    assert "wrong password" in str(caught.value)
    assert "wr0ng-0ne" not in str(caught.value)
    right = tls_postgres.dsn(user="tlssecret", password=TLSSECRET_PASSWORD)
    assert (await session_tls(right))["ssl"] is True


async def test_protocol_versions(
    socket_enabled: None, tls_postgres: PostgresServer, pki: Pki
) -> None:
    """TLS 1.3 when both can; ssl_max_protocol_version holds the client to 1.2."""
    assert (await session_tls(url(tls_postgres)))["version"] == "TLSv1.3"
    capped = url(tls_postgres, "sslmode=require&ssl_max_protocol_version=TLSv1.2")
    assert (await session_tls(capped))["version"] == "TLSv1.2"


async def test_defaults_from_the_home_directory_and_the_environment(
    socket_enabled: None,
    tls_postgres: PostgresServer,
    pki: Pki,
    own_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """libpq's defaults: ~/.postgresql/root.crt and postgresql.crt/.key, and PGSSLMODE."""
    dot = own_home / ".postgresql"
    dot.mkdir()
    (dot / "root.crt").write_bytes(pki.ca.read_bytes())
    (dot / "postgresql.crt").write_bytes(pki.client.cert.read_bytes())
    (dot / "postgresql.key").write_bytes(pki.client.key.read_bytes())
    row = await session_tls(
        url(tls_postgres, "sslmode=verify-full", user="certuser", host="localhost")
    )
    assert (row["ssl"], row["client_dn"]) == (True, "/CN=certuser")
    # require verifies when a root certificate is at hand: this one is not the server's CA.
    (dot / "root.crt").write_bytes(pki.other_ca.read_bytes())
    with pytest.raises(DsnError) as caught:
        await session_tls(url(tls_postgres, "sslmode=require"))
    assert caught.value.kind is DsnErrorKind.TLS_FAILED
    (dot / "root.crt").unlink()
    (dot / "root.crl").write_bytes(pki.crl.read_bytes())
    monkeypatch.setenv("PGSSLROOTCERT", str(pki.ca))
    with pytest.raises(DsnError, match="certificate revoked"):
        await session_tls(url(tls_postgres, "sslmode=verify-ca"))
    monkeypatch.delenv("PGSSLROOTCERT")
    (dot / "root.crl").unlink()
    monkeypatch.setenv("PGSSLMODE", "disable")
    assert (await session_tls(url(tls_postgres)))["ssl"] is False
    assert (await session_tls(url(tls_postgres, "sslmode=require")))["ssl"] is True


async def test_servers_without_tls(socket_enabled: None, own_postgres: PostgresServer) -> None:
    """Private test servers have TLS off: prefer and allow go plain, require says the server
    does not accept TLS."""
    address = own_postgres.dsn()
    assert own_postgres.psql("SHOW ssl") == "off"
    assert (await session_tls(address))["ssl"] is False
    assert (await session_tls(f"{address}?sslmode=allow"))["ssl"] is False
    with pytest.raises(DsnError) as caught:
        await session_tls(f"{address}?sslmode=require")
    assert caught.value.kind is DsnErrorKind.TLS_FAILED
    assert "does not accept TLS (sslmode=require)" in str(caught.value)


async def test_shared_server_encrypts_when_it_has_tls(
    socket_enabled: None, telemetry_database: str
) -> None:
    """With no sslmode, a session with the shared server is encrypted iff its ssl is on
    (Debian turns it on with a snakeoil certificate; this machine's may have it off)."""
    server_has_tls = psql("SHOW ssl") == "on"
    assert (await session_tls(dsn(telemetry_database)))["ssl"] is server_has_tls


def test_unix_socket_ignores_sslmode() -> None:
    """Over a Unix socket there is no TLS, whatever sslmode says (as in libpq)."""
    address = "postgresql://postgres@/postgres?host=/var/run/postgresql&sslmode=verify-full"
    assert Dsn(address).tls.mode is SslMode.DISABLE


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("sslmode=sometimes", "sslmode must be one of disable, allow, prefer"),
        ("ssl_min_protocol_version=TLSv9", "ssl_min_protocol_version must be one of TLSv1,"),
        ("ssl_max_protocol_version=SSLv3", "ssl_max_protocol_version must be one of"),
        ("sslnegotiation=direct", "sslnegotiation=direct needs sslmode=require"),
    ],
)
def test_bad_tls_parameters_are_invalid(query: str, fragment: str) -> None:
    """A TLS parameter libpq would refuse: INVALID, naming it, without the password."""
    with pytest.raises(DsnError) as caught:
        Dsn(f"postgresql://u:pw@db.example/tele?{query}&sslpassword=k3y")
    assert caught.value.kind is DsnErrorKind.INVALID
    assert fragment in str(caught.value)
    assert ":pw@" not in str(caught.value)
    assert "k3y" not in str(caught.value)


def test_tls_settings_keep_the_key_password_out_of_repr() -> None:
    """The parsed settings show the mode and files, never sslpassword."""
    settings = Dsn("postgresql://u@db.example/tele?sslmode=verify-full&sslpassword=k3y").tls
    assert settings.mode is SslMode.VERIFY_FULL
    assert settings.password == "k3y"
    assert "k3y" not in repr(settings)


async def test_store_pool_and_writer_use_tls(
    socket_enabled: None, tls_postgres: PostgresServer, tmp_path: Path
) -> None:
    """Both the writer's connection and the pool's follow the DSN (here: prefer, so TLS)."""
    tls_postgres.psql('CREATE DATABASE "tls_store"')
    store = TelemetryStore(
        TelemetryConfig(
            dsn=Dsn(tls_postgres.dsn("tls_store")),
            spill_path=tmp_path / "spill",
            writer=replace(FAST, rollups=False),
            rollup_interval=None,
            retention_interval=None,
        )
    )
    await store.start()
    try:
        store.submit("bench", "temperature", 19.5, T0)
        assert await store.flush(10)
        await store.enforce_retention(T0)  # on a pooled connection
        rows = tls_postgres.psql(
            "SELECT count(*), bool_and(s.ssl) FROM pg_stat_activity a JOIN pg_stat_ssl s "
            "USING (pid) WHERE a.application_name = 'makerhub-telemetry' "
            "AND a.datname = 'tls_store'"
        )
        assert rows == "2|t"
    finally:
        await store.stop()
        tls_postgres.psql('DROP DATABASE "tls_store" WITH (FORCE)')
