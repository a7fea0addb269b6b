"""A private PostgreSQL server with TLS, and the throwaway CA's files its tests need."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dev.processes.certificates import CertificateAuthority, IssuedCertificate
from dev.processes.postgres import PostgresServer, ServerTls

KEY_PASSWORD = "k3y-pass"
TLS_HBA = (
    "hostssl all tlsonly 127.0.0.1/32 trust",
    "host all tlsonly 127.0.0.1/32 reject",
    "hostssl all tlssecret 127.0.0.1/32 scram-sha-256",
    "host all tlssecret 127.0.0.1/32 reject",
    "hostnossl all plainonly 127.0.0.1/32 trust",
    "host all plainonly 127.0.0.1/32 reject",
    "hostssl all certuser 127.0.0.1/32 cert",
    "host all certuser 127.0.0.1/32 reject",
)
"""Roles that get in only with TLS, only without, or only with a client certificate."""
TLSSECRET_PASSWORD = "right-one"


@dataclass(frozen=True)
class Pki:
    """The test CA's files, a CA nobody uses, and a CRL revoking the server's certificate.

    The server's certificate names ``localhost`` only: ``verify-full`` to 127.0.0.1 fails.
    """

    ca: Path
    server: IssuedCertificate
    client: IssuedCertificate
    """For the role ``certuser``."""
    locked_client: IssuedCertificate
    """The same client, its key encrypted with :data:`KEY_PASSWORD`."""
    other_ca: Path
    crl: Path


def make_pki(directory: Path) -> Pki:
    """Issue the CA's, the server's and the clients' certificates into ``directory``."""
    ca = CertificateAuthority(directory / "ca")
    server = ca.issue("server", "makerhub-test-server", hosts=("localhost",))
    return Pki(
        ca=ca.cert,
        server=server,
        client=ca.issue("client", "certuser", client=True),
        locked_client=ca.issue("locked", "certuser", client=True, password=KEY_PASSWORD),
        other_ca=CertificateAuthority(directory / "other", "Another CA").cert,
        crl=ca.revoke("revoked", server),
    )


def start_tls_postgres(pki: Pki) -> PostgresServer:
    """Start a private server with TLS on and the roles of :data:`TLS_HBA`; destroy it after."""
    server = PostgresServer(
        tls=ServerTls(cert=pki.server.cert, key=pki.server.key, client_ca=pki.ca), hba=TLS_HBA
    )
    server.init()
    server.start()
    try:
        for role in ("tlsonly", "plainonly", "certuser"):
            server.ensure_role(role)
        server.ensure_role("tlssecret", TLSSECRET_PASSWORD)
    except Exception:
        server.destroy()
        raise
    return server
