"""Cameras: each feature's, gathered from its folder.

cameras/camera.py.
"""

from __future__ import annotations

from .cameras import camera as cameras
from .features import platform_of

PARALLEL_UPDATES = 0

async_setup_entry = platform_of(cameras)
