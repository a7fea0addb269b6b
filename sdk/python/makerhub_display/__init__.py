"""Makerhub display agent: a screen's computer as a Makerhub unit (see docs/displays.md).

It drives a Chromium kiosk over the DevTools protocol (:mod:`.browser`), switches the
screen with the first power method that really works (:mod:`.power`) and takes its
orders as unit inputs (:mod:`.agent`), built on :mod:`makerhub_unit`.
"""

__version__ = "0.1.0"
