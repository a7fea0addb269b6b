"""The service's settings: command-line arguments, and the add-on's ``options.json``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
import json
import logging
import os
from pathlib import Path
import re
import secrets
from typing import Any, Final

DEFAULT_PORT: Final = 8100
DEFAULT_SUSPEND_AFTER: Final = 300
DEFAULT_STOP_AFTER: Final = 4 * 3600
DEFAULT_MAX_RUNNING: Final = 4
DEFAULT_MAX_DESKTOPS: Final = 12
DEFAULT_TOKEN_TTL: Final = 60
DEFAULT_USER_PREFIX: Final = "mhd-"
TOKEN_FILE: Final = "api.token"  # noqa: S105  (a file name)
SUPERVISOR_INGRESS_IP: Final = "172.30.32.2"
LOG_LEVELS: Final = ("debug", "info", "warning", "error")
USER_PREFIX_RE: Final = re.compile(r"[a-z][a-z0-9-]{0,7}")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service is configured with."""

    data_dir: Path
    token: str = field(repr=False)
    host: str = "0.0.0.0"  # noqa: S104  (an add-on listens on its container's address)
    port: int = DEFAULT_PORT
    allowed_schemes: frozenset[str] = frozenset({"https", "ssh"})
    allowed_roots: tuple[Path, ...] = ()
    """Folders whose repositories may be cloned by local path or ``file://``."""
    user_prefix: str = DEFAULT_USER_PREFIX
    suspend_after: float = DEFAULT_SUSPEND_AFTER
    stop_after: float = DEFAULT_STOP_AFTER
    max_running: int = DEFAULT_MAX_RUNNING
    max_desktops: int = DEFAULT_MAX_DESKTOPS
    token_ttl: float = DEFAULT_TOKEN_TTL
    tick_interval: float = 5.0
    git_timeout: float = 300.0
    trusted_ingress: str | None = None
    """The Supervisor's ingress address, whose requests Home Assistant authenticated."""
    supervisor_token: str | None = field(default=None, repr=False)
    supervisor_url: str = "http://supervisor"
    log_level: str = "info"
    novnc_dir: Path = Path("/usr/share/novnc")

    def __post_init__(self) -> None:
        """Refuse settings that cannot work."""
        if USER_PREFIX_RE.fullmatch(self.user_prefix) is None:
            raise ValueError("user prefix: a-z first, then a-z, 0-9 or '-', at most 8")
        if not 0 < self.suspend_after <= self.stop_after:
            raise ValueError("suspend_after must be positive and at most stop_after")
        if self.max_running < 1 or self.max_desktops < self.max_running:
            raise ValueError("max_running >= 1 and max_desktops >= max_running")


def load_or_create_token(data_dir: Path) -> str:
    """Return the API token kept in the data dir, generating it on first start."""
    path = data_dir / TOKEN_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m makerhub_desktops", description="Makerhub desktops service"
    )
    parser.add_argument("--data", type=Path, required=True, help="data directory")
    parser.add_argument("--host", default=None, help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=None, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--token", default=None, help="API bearer token (default: generated)")
    parser.add_argument("--token-file", type=Path, default=None, help="read the token from a file")
    parser.add_argument("--options", type=Path, default=None, help="the add-on's options.json")
    parser.add_argument(
        "--allow-url-scheme", action="append", default=[], choices=["http", "git"],
        help="also allow http or git clone URLs (local test fakes)",
    )  # fmt: skip
    parser.add_argument(
        "--allow-file-root", action="append", type=Path, default=[],
        help="allow cloning local repositories inside this folder (repeatable)",
    )  # fmt: skip
    parser.add_argument("--user-prefix", default=None, help="prefix of the desktops' users")
    parser.add_argument("--suspend-after", type=float, default=None, help="idle seconds")
    parser.add_argument("--stop-after", type=float, default=None, help="idle seconds")
    parser.add_argument("--max-running", type=int, default=None)
    parser.add_argument("--max-desktops", type=int, default=None)
    parser.add_argument("--token-ttl", type=float, default=None, help="connect token lifetime")
    parser.add_argument("--log-level", default=None, choices=LOG_LEVELS)
    return parser.parse_args(argv)


def load_settings(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    """Merge the command line, the add-on options and the environment.

    Precedence: command line, then ``options.json``, then defaults. The token is
    ``--token``/``--token-file``, else the add-on option ``api_token``, else one generated
    on first start and kept in ``<data>/api.token`` (mode 0600).
    """
    env = os.environ if environ is None else environ
    data_dir: Path = args.data.absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {}
    options_path = args.options
    if options_path is None and (data_dir / "options.json").exists():
        options_path = data_dir / "options.json"
    if options_path is not None:
        options = json.loads(options_path.read_text())
    token = args.token
    if token is None and args.token_file is not None:
        token = args.token_file.read_text().strip()
    if token is None and options.get("api_token"):
        token = str(options["api_token"])
    if token is None:
        token = load_or_create_token(data_dir)
    if len(token) < 16:
        raise SystemExit("the API token must be at least 16 characters")
    supervisor_token = env.get("SUPERVISOR_TOKEN")

    def pick(arg: Any, option: str, default: Any) -> Any:
        return arg if arg is not None else options.get(option) or default

    return Settings(
        data_dir=data_dir,
        token=token,
        host=args.host or "0.0.0.0",  # noqa: S104
        port=args.port or DEFAULT_PORT,
        allowed_schemes=frozenset({"https", "ssh", *args.allow_url_scheme}),
        allowed_roots=tuple(path.absolute() for path in args.allow_file_root),
        user_prefix=args.user_prefix or DEFAULT_USER_PREFIX,
        suspend_after=float(pick(args.suspend_after, "suspend_after", DEFAULT_SUSPEND_AFTER)),
        stop_after=float(pick(args.stop_after, "stop_after", DEFAULT_STOP_AFTER)),
        max_running=int(pick(args.max_running, "max_running", DEFAULT_MAX_RUNNING)),
        max_desktops=int(pick(args.max_desktops, "max_desktops", DEFAULT_MAX_DESKTOPS)),
        token_ttl=float(pick(args.token_ttl, "connect_token_ttl", DEFAULT_TOKEN_TTL)),
        trusted_ingress=SUPERVISOR_INGRESS_IP if supervisor_token else None,
        supervisor_token=supervisor_token,
        log_level=args.log_level or options.get("log_level") or "info",
    )


def configure_logging(level: str) -> None:
    """Log to stderr at ``level`` (the Supervisor shows the add-on's stderr)."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
