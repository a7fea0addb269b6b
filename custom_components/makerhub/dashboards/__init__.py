"""Dashboards: the frontend module (the fleet graph card and the ``custom:makerhub``
dashboard strategy, built from ``frontend/``), served and registered by the integration,
and the WebSocket command that gives the graph the hub's units, variables and links."""
