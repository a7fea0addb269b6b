"""Sensors: each feature's, gathered from its folder.

units/sensor.py, telemetry/sensor.py, presence/sensor.py, projects/sensor.py,
firmware/sensor.py, desktops/sensor.py, health/sensor.py,
cameras/sensor.py.
"""

from __future__ import annotations

from .cameras import sensor as cameras
from .desktops import sensor as desktops
from .features import platform_of
from .firmware import sensor as firmware
from .health import sensor as health
from .presence import sensor as presence
from .projects import sensor as projects
from .telemetry import sensor as telemetry
from .units import sensor as units

PARALLEL_UPDATES = 0

async_setup_entry = platform_of(
    units, telemetry, presence, projects, firmware, desktops, health, cameras
)
