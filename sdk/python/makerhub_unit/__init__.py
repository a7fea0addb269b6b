"""Makerhub unit library: the unit side of Makerhub protocol v1 (see docs/protocol.md).

A unit program needs only :class:`Unit`; the fleet simulator lives in
:mod:`makerhub_unit.sim`.
"""

from .commands import Command, UpdateRequest
from .session import UnitStats
from .unit import Unit
from .values import InvalidValueError, Value

__all__ = ["Command", "InvalidValueError", "Unit", "UnitStats", "UpdateRequest", "Value"]
__version__ = "0.1.0"
