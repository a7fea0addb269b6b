#!/bin/sh
# Entry point of the add-on container: the Supervisor mounts the add-on's storage at
# /data (with options.json) and its config folder at /config (an optional known_hosts).
set -eu
exec python3 -m makerhub_firmware --data /data --options /data/options.json
