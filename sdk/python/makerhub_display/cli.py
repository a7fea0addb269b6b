"""``makerhub-display``: ``setup`` writes the configuration and the systemd user unit,
``run`` runs the agent (what the unit file starts), ``probe`` says which power method works.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from importlib.resources import files
import logging
import os
from pathlib import Path
import signal
import subprocess
import sys
import threading

from makerhub_unit import Unit

from . import __version__
from .agent import MAKERHUB_JSON, DisplayAgent
from .browser import Kiosk
from .config import DEFAULT_PATH, ConfigError, DisplayConfig
from .idle import write_fallback
from .power import Tools, candidates, probe
from .targets import Sources

_LOGGER = logging.getLogger(__name__)
UNIT_NAME = "makerhub-display.service"


def _say(text: object, *, error: bool = False) -> None:
    stream = sys.stderr if error else sys.stdout
    stream.write(f"{text}\n")


def unit_file(executable: str) -> str:
    """Return the systemd user unit that runs ``executable run``."""
    template = files("makerhub_display").joinpath("data", UNIT_NAME).read_text(encoding="utf-8")
    return template.replace("@EXECUTABLE@", executable)


def setup(args: argparse.Namespace) -> int:
    """Write the configuration and the user unit; enable it unless ``--no-enable``."""
    config = DisplayConfig(
        mqtt_host=args.mqtt_host,
        mqtt_port=args.mqtt_port,
        mqtt_username=args.mqtt_username,
        mqtt_password=args.mqtt_password or os.environ.get("MAKERHUB_MQTT_PASSWORD"),
        mqtt_tls=args.mqtt_tls,
        announce_id=args.announce_id,
        name=args.name,
        ha_url=args.ha_url,
        offline_idle_after=args.offline_idle_after,
    )
    try:
        config.check("the command line")
    except ConfigError as err:
        _say(err, error=True)
        return 2
    config.save(args.config)
    # The interpreter this runs in (the agent's own venv), not whatever PATH finds first.
    executable = f"{sys.executable} -m makerhub_display"
    unit_dir = Path(args.systemd_dir).expanduser()
    unit_dir.mkdir(parents=True, exist_ok=True)
    (unit_dir / UNIT_NAME).write_text(unit_file(executable), encoding="utf-8")
    _say(f"wrote {args.config.expanduser()} and {unit_dir / UNIT_NAME}")
    if args.enable:
        for command in (
            ["systemctl", "--user", "daemon-reload"],
            ["systemctl", "--user", "enable", "--now", UNIT_NAME],
        ):
            done = subprocess.run(command, check=False)  # noqa: S603 (fixed arguments)
            if done.returncode != 0:
                _say(f"{' '.join(command)} failed ({done.returncode})", error=True)
                return 1
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the agent until SIGTERM/SIGINT."""
    try:
        config = DisplayConfig.load(args.config)
    except ConfigError as err:
        _say(err, error=True)
        return 2
    _LOGGER.info("starting with %s", config.redacted())
    state = config.state_path
    unit = Unit.announcing(
        config.announce_id,
        config.mqtt_host,
        config.mqtt_port,
        schema={**MAKERHUB_JSON, "name": config.name},
        state_dir=state,
        name=config.name,
        model="makerhub-display",
        prefix=config.prefix,
        username=config.mqtt_username,
        password=config.mqtt_password,
        tls=config.mqtt_tls,
        version=__version__,
    )
    kiosk = Kiosk(state / "chromium", executable=config.chromium, extra_args=config.chromium_args)
    kiosk.start()
    wayland = bool(os.environ.get("WAYLAND_DISPLAY"))
    chosen = probe(candidates(Tools(path=config.power_path), kiosk, wayland=wayland))
    _LOGGER.info("power method %s (passed over: %s)", chosen.method.name, chosen.rejected)
    agent = DisplayAgent(
        unit,
        kiosk,
        chosen.method,
        Sources(ha_url=config.ha_url),
        write_fallback(state, config.name),
        offline_idle_after=config.offline_idle_after,
    )
    kiosk.on_touch = agent.touched
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    agent.start()
    unit.start(timeout=0)
    stop.wait()
    agent.stop()
    unit.stop()
    kiosk.stop()
    return 0


def probe_command(args: argparse.Namespace) -> int:
    """Print the power methods tried and the one that works (the overlay is not tried)."""
    methods = candidates(
        Tools(path=args.power_path), _NoKiosk(), wayland=bool(os.environ.get("WAYLAND_DISPLAY"))
    )
    chosen = probe(methods)
    for name, reason in chosen.rejected.items():
        _say(f"{name}: not used: {reason}")
    _say(f"power method: {chosen.method.name}")
    return 0


class _NoKiosk:
    """The overlay without a browser (``probe`` only reports it)."""

    def set_blank(self, blank: bool) -> None:
        """Do nothing: no page to cover."""

    def is_blank(self) -> bool:
        """Return False: nothing is covered."""
        return False


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Return the command line's choices."""
    parser = argparse.ArgumentParser(prog="makerhub-display", description=__doc__.split("\n")[0])
    parser.add_argument("--log-level", default="INFO")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the agent")
    run_parser.add_argument("--config", type=Path, default=DEFAULT_PATH)
    run_parser.set_defaults(handler=run)
    probe_parser = commands.add_parser("probe", help="say which power method works here")
    probe_parser.add_argument("--power-path", default=None, help="where the power tools are")
    probe_parser.set_defaults(handler=probe_command)
    setup_parser = commands.add_parser("setup", help="write the configuration and systemd unit")
    setup_parser.add_argument("--config", type=Path, default=DEFAULT_PATH)
    setup_parser.add_argument("--mqtt-host", required=True)
    setup_parser.add_argument("--mqtt-port", type=int, default=1883)
    setup_parser.add_argument("--mqtt-username")
    setup_parser.add_argument("--mqtt-password", help="or MAKERHUB_MQTT_PASSWORD")
    setup_parser.add_argument("--mqtt-tls", action="store_true")
    setup_parser.add_argument("--announce-id", default="display")
    setup_parser.add_argument("--name", default="Display")
    setup_parser.add_argument("--ha-url")
    setup_parser.add_argument("--offline-idle-after", type=float, default=300.0)
    setup_parser.add_argument("--systemd-dir", default="~/.config/systemd/user")
    setup_parser.add_argument("--no-enable", dest="enable", action="store_false")
    setup_parser.set_defaults(handler=setup)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``makerhub-display``."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    handler = args.handler
    result: int = handler(args)
    return result
