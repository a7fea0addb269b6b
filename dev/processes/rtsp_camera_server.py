"""A test camera: GStreamer's RTSP server serving a synthetic picture with a visible clock.

Run with the system Python (``/usr/bin/python3``: PyGObject and GStreamer come from
Debian's packages)::

    /usr/bin/python3 dev/processes/rtsp_camera_server.py --port 8554 --path /cam

The picture is ``videotestsrc`` with the wall-clock time and a running frame counter
drawn on it, encoded as H.264 (``x264enc``, a keyframe every ``--keyframe`` frames) and
served at ``rtsp://127.0.0.1:PORT/PATH``. The media is shared: any number of clients at
once watch one encoder. ``--mjpeg-port`` also serves the same picture as HTTP MJPEG
(``multipart/x-mixed-replace``) for the recorder's HTTP camera kind. Prints ``ready`` on
stdout once it listens. With ``--user`` and ``--password`` a client must log in (RTSP
Basic authentication), as many real cameras require.
"""

from __future__ import annotations

import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def pipeline(width: int, height: int, fps: int, keyframe: int, bitrate: int) -> str:
    """The launch line of the RTSP media (the payloader must be named pay0)."""
    return (
        f"( videotestsrc is-live=true pattern=ball "
        f"! video/x-raw,width={width},height={height},framerate={fps}/1 "
        f"! clockoverlay time-format=%H:%M:%S halignment=left valignment=top font-desc=Sans,24 "
        f"! timeoverlay halignment=right valignment=bottom font-desc=Sans,24 "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={keyframe} "
        f"bitrate={bitrate} "
        f"! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


def require_login(
    server: GstRtspServer.RTSPServer, factory: GstRtspServer.RTSPMediaFactory, user: str,
    password: str,
) -> None:  # fmt: skip
    """Let only ``user`` with ``password`` watch (anonymous clients get 401)."""
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    server.set_auth(auth)
    permissions = GstRtspServer.RTSPPermissions()
    for permission in (
        GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS,
        GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
    ):
        permissions.add_permission_for_role("viewer", permission, True)
    factory.set_permissions(permissions)


def main() -> int:
    """Serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/cam")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--keyframe", type=int, default=15, help="frames between keyframes")
    parser.add_argument("--bitrate", type=int, default=800, help="kbit/s")
    parser.add_argument("--user", help="require this user (with --password)")
    parser.add_argument("--password", help="the user's password")
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(pipeline(args.width, args.height, args.fps, args.keyframe, args.bitrate))
    factory.set_shared(True)
    if args.user:
        require_login(server, factory, args.user, args.password or "")
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on port {args.port}", file=sys.stderr)
        return 1
    print("ready", flush=True)
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
