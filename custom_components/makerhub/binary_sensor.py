"""Binary sensors: each feature's, gathered from its folder.

units/binary_sensor.py, telemetry/binary_sensor.py, presence/binary_sensor.py,
health/binary_sensor.py, members/binary_sensor.py.
"""

from __future__ import annotations

from .features import platform_of
from .health import binary_sensor as health
from .members import binary_sensor as members
from .presence import binary_sensor as presence
from .telemetry import binary_sensor as telemetry
from .units import binary_sensor as units

PARALLEL_UPDATES = 0

async_setup_entry = platform_of(units, telemetry, presence, health, members)
