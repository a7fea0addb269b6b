"""Displays: screens at the stations, driven by the display agent (a unit like any other).

``makerhub.show_on_display`` (``services.py``) tells displays, picked by device or by
station (area), what to show; the idle page and the desktop redirect they load without a
Home Assistant login are signed hub pages (``views.py``); which displays take a keyboard
is an options section (``options.py``).
"""
