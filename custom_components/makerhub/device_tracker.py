"""Device trackers: each feature's, gathered from its folder.

presence/device_tracker.py.
"""

from __future__ import annotations

from .features import platform_of
from .presence import device_tracker as presence

PARALLEL_UPDATES = 0

async_setup_entry = platform_of(presence)
