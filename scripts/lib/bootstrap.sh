# shellcheck shell=bash
# Shared set-up for scripts/test, scripts/develop and scripts/bench: a .venv with pinned
# packages, the Debian packages the project needs, and the shared services running.
# Every step checks before it acts, so a second run does almost nothing.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$REPO_ROOT/.venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '\033[1;34m[makerhub]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[makerhub] error:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else die "need root to run: $* (run as root or install sudo)"; fi
}

# Debian packages: install the ones missing, with one apt-get update at most.
ensure_debian_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing Debian packages: ${missing[*]} (and no apt-get to install them)"
  log "installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python() {
  local candidate
  if command -v pyenv >/dev/null 2>&1; then
    candidate="$(pyenv root)/versions/3.13.0/bin/python3.13"
    [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  fi
  for candidate in python3.13 python3.14 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  die "Python >= 3.13 not found: install pyenv's 3.13.0 (pyenv install 3.13.0) or put python3.13 on PATH"
}

# The venv, reinstalled only when a requirements file (or the SDK's metadata) changed.
ensure_venv() {
  local req="$1" stamp hash python
  if [ ! -x "$VENV/bin/python" ]; then
    python="$(find_python)"
    log "creating $VENV with $python"
    "$python" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
  fi
  hash="$(cat "$REPO_ROOT"/requirements/*.txt "$REPO_ROOT/sdk/python/pyproject.toml" | sha256sum | cut -c1-16)-$(basename "$req")"
  stamp="$VENV/.makerhub-installed"
  if [ -f "$stamp" ] && grep -qx "$hash" "$stamp"; then return 0; fi
  log "installing Python packages from requirements/$(basename "$req") (first run takes a few minutes)"
  "$VENV/bin/python" -m pip install -q -r "$req" -c "$REPO_ROOT/requirements/constraints.txt"
  local build_log="$VENV/.sdk-install.log"
  "$VENV/bin/python" -m pip install -q --no-deps -e "$REPO_ROOT/sdk/python" >"$build_log" 2>&1 ||
    { cat "$build_log" >&2; die "installing the SDK (sdk/python) failed"; }
  echo "$hash" >>"$stamp"
}

ensure_postgresql() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  local version
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
  [ -n "$version" ] || die "PostgreSQL is installed but has no cluster in /etc/postgresql"
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 0.5; done
  die "PostgreSQL did not come up on 127.0.0.1:5432"
}

# The desktops service's parts: TigerVNC's Xvnc, noVNC (websockify for the bench's
# x11vnc baseline), a light desktop (Openbox, the tint2 panel, a terminal, a text editor, a
# file manager, Chromium as the browser) and x11-utils, which the tests look into X with.
DESKTOP_PACKAGES=(tigervnc-standalone-server tigervnc-tools websockify novnc openbox tint2
  xterm mousepad pcmanfm chromium x11-utils)

# The recorder service's parts: ffmpeg (recording, snapshots, time-lapses, ffprobe), and
# the test camera: GStreamer's RTSP server with the system Python's PyGObject, a test
# picture with a clock drawn on it (pango's clockoverlay is in gstreamer1.0-x), x264.
RECORDER_PACKAGES=(ffmpeg python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-x)

# The display agent's tests: a virtual screen (Xvfb) and xset, which switches its DPMS;
# a virtual Wayland screen (headless sway, swaymsg for its DPMS) and grim, its screenshots.
DISPLAY_PACKAGES=(xvfb x11-xserver-utils sway grim)

# The frontend's npm packages (frontend/package-lock.json), installed again only when the
# lockfile changed: the build (esbuild), the type check and the unit tests (vitest).
ensure_npm_packages() {
  ensure_debian_packages nodejs
  command -v npm >/dev/null 2>&1 || ensure_debian_packages npm
  local stamp="$REPO_ROOT/frontend/node_modules/.makerhub-lock" hash
  hash="$(sha256sum "$REPO_ROOT/frontend/package-lock.json" | cut -c1-16)"
  if [ -f "$stamp" ] && grep -qx "$hash" "$stamp"; then return 0; fi
  log "installing the frontend's npm packages (npm ci)"
  (cd "$REPO_ROOT/frontend" && npm ci --no-audit --no-fund --loglevel=error) >&2
  echo "$hash" >"$stamp"
}

# Everything the test suite needs.
bootstrap_test() {
  ensure_debian_packages mosquitto mosquitto-clients postgresql postgresql-client git \
    libturbojpeg0 shellcheck unzip "${DESKTOP_PACKAGES[@]}" "${RECORDER_PACKAGES[@]}" \
    "${DISPLAY_PACKAGES[@]}"
  # systemd-analyze, for the deploy/systemd units' checks (systemd need not be running).
  ensure_debian_packages systemd
  ensure_postgresql
  ensure_venv "$REPO_ROOT/requirements/test.txt"
  ensure_npm_packages
}
