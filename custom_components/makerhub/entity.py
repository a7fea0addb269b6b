"""Base entities: one device per unit, availability from the unit, values from listeners."""

from __future__ import annotations
