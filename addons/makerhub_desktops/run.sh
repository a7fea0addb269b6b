#!/bin/sh
# Entry point of the add-on container: the Supervisor mounts the add-on's storage at
# /data (with options.json). Desktops' homes and workspaces live there too.
set -eu
exec python3 -m makerhub_desktops --data /data --options /data/options.json
