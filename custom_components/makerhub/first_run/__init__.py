"""The first-run flow: once the hub is set up, each next step is offered instead of left
for the user to find (connect the firmware service, turn on telemetry, add the first
station, connect the desktops and recorder services once their add-ons are found).

Each open step is a fixable repair issue (``steps.py``) whose fix flow runs the existing
options step, or the station's subentry step, inside the repair (``repairs.py``); an issue
goes away when its step is done, whichever way it was done.
"""
