"""Units: the hub's units on MQTT (lifecycle, message path, publishing, storage,
set-points) and their entities and HTTP views."""
