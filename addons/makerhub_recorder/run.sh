#!/bin/sh
# Entry point of the add-on container: the Supervisor mounts the add-on's storage at
# /data (with options.json) and Home Assistant's media folder at /media, where the
# recordings go (/media/makerhub_recorder).
set -eu
exec python3 -m makerhub_recorder --data /data --options /data/options.json
