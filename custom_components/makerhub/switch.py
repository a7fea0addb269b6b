"""Switches: each feature's, gathered from its folder.

units/switch.py, desktops/switch.py, cameras/switch.py.
"""

from __future__ import annotations

from .cameras import switch as cameras
from .desktops import switch as desktops
from .features import platform_of
from .units import switch as units

PARALLEL_UPDATES = 0

async_setup_entry = platform_of(units, desktops, cameras)
