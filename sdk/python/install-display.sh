#!/bin/sh
# Install the Makerhub display agent on a screen's computer (Raspberry Pi OS / Debian),
# run as the desktop user (sudo is used for the Debian packages only):
#
#   sh install-display.sh --mqtt-host hub.local --mqtt-username display-workbench \
#     --announce-id workbench --name "Workbench" --ha-url http://hub.local:8123
#
# Every argument goes to `makerhub-display setup` (the broker password: the
# MAKERHUB_MQTT_PASSWORD environment variable or --mqtt-password).
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
venv="${MAKERHUB_DISPLAY_VENV:-$HOME/.local/share/makerhub-display/venv}"

# Chromium for the kiosk; the power tools the agent probes (DDC/CI, HDMI-CEC, DPMS).
sudo apt-get update
sudo apt-get install -y --no-install-recommends chromium python3-venv ddcutil cec-utils \
  x11-xserver-utils
# wlopm (Wayland power) is packaged on newer releases only; without it, a sway session's
# own swaymsg switches the screen (nothing to install: it comes with sway).
sudo apt-get install -y --no-install-recommends wlopm 2>/dev/null || true
# ddcutil talks to the monitor over i2c: the user needs the i2c group.
if getent group i2c >/dev/null; then sudo usermod -aG i2c "$(id -un)"; fi

python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "$here"
mkdir -p "$HOME/.local/bin"
ln -sf "$venv/bin/makerhub-display" "$HOME/.local/bin/makerhub-display"

# The graphical session hands DISPLAY / WAYLAND_DISPLAY to user services.
systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY 2>/dev/null || true
exec "$venv/bin/makerhub-display" setup "$@"
