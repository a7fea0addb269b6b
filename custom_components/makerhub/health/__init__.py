"""Fleet health: what should run against what runs, alerts naming the root cause, restarts.

See docs/health.md. The logic is ``core/health.py``; here the hub's parts feed it
(units' state reports, the MQTT connection, the telemetry writer, the services' polls),
its verdicts become entities, events and repair issues, and what can be restarted is.
"""
