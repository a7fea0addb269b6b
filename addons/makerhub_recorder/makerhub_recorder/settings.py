"""The service's settings: command-line arguments, and the add-on's ``options.json``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
import json
import logging
import os
from pathlib import Path
import secrets
from typing import Any, Final

from .vendor.secret_box import read_private_file, write_private_file

DEFAULT_PORT: Final = 8101
GIB: Final = 1024**3
TOKEN_FILE: Final = "api.token"  # noqa: S105  (a file name)
SUPERVISOR_INGRESS_IP: Final = "172.30.32.2"
LOG_LEVELS: Final = ("debug", "info", "warning", "error")
ADDON_RECORDINGS_DIR: Final = Path("/media/makerhub_recorder")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service is configured with (times in seconds, sizes in bytes)."""

    data_dir: Path
    token: str = field(repr=False)
    recordings_dir: Path | None = None
    """Where segments and time-lapses go (default ``<data>/recordings``)."""
    host: str = "0.0.0.0"  # noqa: S104  (an add-on listens on its container's address)
    port: int = DEFAULT_PORT
    device_roots: tuple[Path, ...] = (Path("/dev"),)
    segment_seconds: float = 2.0
    pre_roll: float = 10.0
    stall_timeout: float = 5.0
    """A stream whose ffmpeg reports no progress this long is restarted."""
    connect_timeout: float = 10.0
    reconnect_min: float = 1.0
    reconnect_max: float = 30.0
    lost_after: float = 60.0
    """A camera reconnecting this long has the status ``error`` (it keeps trying)."""
    retention_days: float = 14.0
    camera_max_bytes: int = 0
    """0: no size limit per camera."""
    total_max_bytes: int = 0
    free_floor_bytes: int = 5 * GIB
    timelapse_interval: float = 10.0
    timelapse_fps: int = 25
    timelapse_chunk_frames: int = 50
    timelapse_width: int = 1280
    timelapse_height: int = 720
    housekeeping_interval: float = 2.0
    ffmpeg: str = "ffmpeg"
    trusted_ingress: str | None = None
    """The Supervisor's ingress address, whose requests Home Assistant authenticated."""
    supervisor_token: str | None = field(default=None, repr=False)
    supervisor_url: str = "http://supervisor"
    log_level: str = "info"

    def __post_init__(self) -> None:
        """Refuse settings that cannot work."""
        if not 0.5 <= self.segment_seconds <= 60:
            raise ValueError("segment_seconds: 0.5 to 60")
        if not 0 <= self.pre_roll <= 300:
            raise ValueError("pre_roll: 0 to 300 seconds")
        if self.reconnect_min <= 0 or self.reconnect_max < self.reconnect_min:
            raise ValueError("reconnect_min > 0 and reconnect_max >= reconnect_min")
        if self.timelapse_width % 2 or self.timelapse_height % 2:
            raise ValueError("the time-lapse size must be even")

    @property
    def media_dir(self) -> Path:
        """The recordings folder."""
        return self.recordings_dir or self.data_dir / "recordings"


def load_or_create_token(data_dir: Path) -> str:
    """Return the API token kept in the data dir, generating it on first start."""
    path = data_dir / TOKEN_FILE
    if not path.exists():
        write_private_file(path, secrets.token_urlsafe(32).encode())
    return read_private_file(path).decode().strip()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m makerhub_recorder", description="Makerhub recorder service"
    )
    add = parser.add_argument
    add("--data", type=Path, required=True, help="data directory")
    add("--recordings", type=Path, default=None, help="recordings folder (default DATA/recordings)")
    add("--host", default=None, help="address to listen on (default 0.0.0.0)")
    add("--port", type=int, default=None, help=f"port (default {DEFAULT_PORT})")
    add("--token", default=None, help="API bearer token (default: generated)")
    add("--token-file", type=Path, default=None, help="read the token from a file")
    add("--options", type=Path, default=None, help="the add-on's options.json")
    add("--device-root", action="append", type=Path, default=[], help="V4L2 devices' folder")
    add("--segment-seconds", type=float, default=None)
    add("--pre-roll", type=float, default=None, help="seconds kept before a recording starts")
    add("--stall-timeout", type=float, default=None, help="seconds without progress = lost")
    add("--reconnect-max", type=float, default=None, help="longest wait between reconnects")
    add("--lost-after", type=float, default=None, help="seconds reconnecting before 'error'")
    add("--retention-days", type=float, default=None)
    add("--camera-max-gib", type=float, default=None, help="size limit per camera (0: none)")
    add("--total-max-gib", type=float, default=None, help="size limit in total (0: none)")
    add("--free-floor-gib", type=float, default=None, help="free space always kept")
    add("--timelapse-interval", type=float, default=None, help="seconds between frames")
    add("--timelapse-chunk-frames", type=int, default=None)
    add("--timelapse-size", default=None, help="WIDTHxHEIGHT of time-lapse frames")
    add("--housekeeping-interval", type=float, default=None)
    add("--log-level", default=None, choices=LOG_LEVELS)
    return parser.parse_args(argv)


def _read_options(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    options_path = args.options
    if options_path is None and (data_dir / "options.json").exists():
        options_path = data_dir / "options.json"
    if options_path is None:
        return {}
    options = json.loads(options_path.read_text())
    return options if isinstance(options, dict) else {}


def _token(args: argparse.Namespace, options: dict[str, Any], data_dir: Path) -> str:
    token: str | None = args.token
    if token is None and args.token_file is not None:
        token = args.token_file.read_text().strip()
    if token is None and options.get("api_token"):
        token = str(options["api_token"])
    if token is None:
        token = load_or_create_token(data_dir)
    if len(token) < 16:
        raise SystemExit("the API token must be at least 16 characters")
    return token


def load_settings(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    """Merge the command line, the add-on options and the environment.

    Precedence: command line, then ``options.json``, then defaults. The token is
    ``--token``/``--token-file``, else the add-on option ``api_token``, else one generated
    on first start and kept in ``<data>/api.token`` (mode 0600). Under the Supervisor the
    recordings go to ``/media/makerhub_recorder`` (the large disk) unless set otherwise.
    """
    env = os.environ if environ is None else environ
    data_dir: Path = args.data.absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    options = _read_options(args, data_dir)
    supervisor_token = env.get("SUPERVISOR_TOKEN")

    def pick(arg: Any, option: str, default: Any) -> Any:
        if arg is not None:
            return arg
        value = options.get(option)
        return default if value is None else value

    recordings = args.recordings or options.get("recordings_dir")
    if recordings is None and supervisor_token:
        recordings = ADDON_RECORDINGS_DIR
    size = str(pick(args.timelapse_size, "timelapse_size", "1280x720"))
    width, _, height = size.partition("x")
    if not (width.isdigit() and height.isdigit()):
        raise SystemExit("timelapse size: WIDTHxHEIGHT, for example 1280x720")
    return Settings(
        data_dir=data_dir,
        token=_token(args, options, data_dir),
        recordings_dir=None if recordings is None else Path(recordings).absolute(),
        host=args.host or "0.0.0.0",  # noqa: S104
        port=args.port or DEFAULT_PORT,
        device_roots=tuple(p.absolute() for p in args.device_root) or (Path("/dev"),),
        segment_seconds=float(pick(args.segment_seconds, "segment_seconds", 2.0)),
        pre_roll=float(pick(args.pre_roll, "pre_roll", 10.0)),
        stall_timeout=float(pick(args.stall_timeout, "stall_timeout", 5.0)),
        reconnect_max=float(pick(args.reconnect_max, "reconnect_max", 30.0)),
        lost_after=float(pick(args.lost_after, "lost_after", 60.0)),
        retention_days=float(pick(args.retention_days, "retention_days", 14.0)),
        camera_max_bytes=int(float(pick(args.camera_max_gib, "camera_max_gib", 0)) * GIB),
        total_max_bytes=int(float(pick(args.total_max_gib, "total_max_gib", 0)) * GIB),
        free_floor_bytes=int(float(pick(args.free_floor_gib, "free_floor_gib", 5)) * GIB),
        timelapse_interval=float(pick(args.timelapse_interval, "timelapse_interval", 10.0)),
        timelapse_chunk_frames=int(pick(args.timelapse_chunk_frames, "timelapse_chunk_frames", 50)),
        timelapse_width=int(width),
        timelapse_height=int(height),
        housekeeping_interval=float(pick(args.housekeeping_interval, "_", 2.0)),
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
