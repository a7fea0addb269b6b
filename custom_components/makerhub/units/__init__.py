"""Units: the hub's units on MQTT (lifecycle, message path, publishing, retained copies,
availability, set-points, coalescing), their entities, subentry flow, settings and HTTP
views."""
