"""The proxy's parser of the client half of RFB: a viewer's input never gets through."""

from __future__ import annotations

import struct

import pytest

from makerhub_desktops.rfb import ClientStreamFilter, ProtocolError

HANDSHAKE = b"RFB 003.008\n" + b"\x01" + b"\x00"  # version, security None, not shared
SET_PIXEL_FORMAT = b"\x00\x00\x00\x00" + struct.pack(
    ">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0
)
SET_ENCODINGS = struct.pack(">BxH", 2, 3) + struct.pack(">iii", 0, 4, -223)
UPDATE_REQUEST = struct.pack(">BBHHHH", 3, 1, 0, 0, 1280, 800)
KEY = struct.pack(">BBxxI", 4, 1, 0x61)
POINTER = struct.pack(">BBHH", 5, 1, 10, 20)
CUT_TEXT = struct.pack(">B3xI", 6, 16) + KEY + KEY
EXTENDED_CUT_TEXT = struct.pack(">B3xi", 6, -8) + struct.pack(">I", 1 << 24) + KEY[:4]
CONTINUOUS = struct.pack(">BBHHHH", 150, 1, 0, 0, 1280, 800)
FENCE = struct.pack(">B3xIB", 248, 0, 4) + b"abcd"
QEMU_KEY = struct.pack(">BBHII", 255, 0, 1, 0x61, 30)
DESKTOP_SIZE = struct.pack(">BxHHBx", 251, 800, 600, 1) + bytes(16)
XVP = struct.pack(">BxBB", 250, 1, 2)

HARMLESS = [SET_PIXEL_FORMAT, SET_ENCODINGS, UPDATE_REQUEST, CONTINUOUS, FENCE]
INPUT = [KEY, POINTER, CUT_TEXT, EXTENDED_CUT_TEXT, QEMU_KEY, DESKTOP_SIZE, XVP]


def run(view_only: bool, stream: bytes, chunk: int) -> bytes:
    stream_filter = ClientStreamFilter(view_only=view_only)
    out = b""
    for start in range(0, len(stream), chunk):
        out += stream_filter.feed(stream[start : start + chunk])
    return out


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
def test_a_viewer_keeps_only_the_picture_requests(chunk: int) -> None:
    messages = [m for pair in zip(HARMLESS * 2, INPUT, strict=False) for m in pair]
    stream = HANDSHAKE + b"".join(messages) + KEY
    out = run(True, stream, chunk)
    # The handshake goes through with the shared flag forced on.
    assert out.startswith(b"RFB 003.008\n\x01\x01")
    assert out[14:] == b"".join(m for m in messages if m in HARMLESS)


@pytest.mark.parametrize("chunk", [1, 5, 1000])
def test_a_controller_passes_everything(chunk: int) -> None:
    body = b"".join(HARMLESS + INPUT)
    assert run(False, HANDSHAKE + body, chunk) == b"RFB 003.008\n\x01\x01" + body


def test_version_3_3_has_no_security_choice() -> None:
    out = run(True, b"RFB 003.003\n\x00" + KEY + UPDATE_REQUEST, 4)
    assert out == b"RFB 003.003\n\x01" + UPDATE_REQUEST


@pytest.mark.parametrize(
    "stream",
    [
        b"GET / HTTP/1.1\r\n",
        b"RFB 004.001\n",
        b"RFB 003.008\n\x02",  # VNC authentication: not offered
        HANDSHAKE + b"\x07" + bytes(20),  # unknown message type
        HANDSHAKE + struct.pack(">BB", 255, 1) + bytes(10),  # QEMU audio
        HANDSHAKE + struct.pack(">B3xI", 6, 0x7FFFFFFF),  # 2 GiB of clipboard
    ],
)
def test_a_stream_it_cannot_follow_ends_the_connection(stream: bytes) -> None:
    with pytest.raises(ProtocolError):
        run(True, stream, 1)
