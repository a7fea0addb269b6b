"""The client half of the RFB protocol, parsed message by message, for view-only clients.

The service's WebSocket proxy passes every byte a client sends through
:class:`ClientStreamFilter`. It follows the handshake (version, security type, ClientInit)
and then cuts the stream into whole messages by their RFB lengths (RFC 6143 plus the
extensions TigerVNC and noVNC use). For a viewer it drops every message that would
change the desktop — KeyEvent, PointerEvent, ClientCutText, QEMU key events, xvp and
SetDesktopSize — and keeps the ones that only ask for pictures. A message type it does
not know ends the connection: a stream it cannot parse could hide an input event.

It also forces the ClientInit "shared" flag on, so no client can ask Xvnc to disconnect
the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import enum
import struct
from typing import Final


class ProtocolError(Exception):
    """The client's stream is not RFB the proxy can follow."""


class Phase(enum.Enum):
    """Where in the client's stream the filter is."""

    VERSION = 1
    SECURITY = 2
    CLIENT_INIT = 3
    MESSAGES = 4


SET_PIXEL_FORMAT: Final = 0
SET_ENCODINGS: Final = 2
FRAMEBUFFER_UPDATE_REQUEST: Final = 3
KEY_EVENT: Final = 4
POINTER_EVENT: Final = 5
CLIENT_CUT_TEXT: Final = 6
ENABLE_CONTINUOUS_UPDATES: Final = 150
CLIENT_FENCE: Final = 248
XVP: Final = 250
SET_DESKTOP_SIZE: Final = 251
QEMU: Final = 255

INPUT_MESSAGES: Final = frozenset(
    {KEY_EVENT, POINTER_EVENT, CLIENT_CUT_TEXT, XVP, SET_DESKTOP_SIZE, QEMU}
)
"""What a viewer may not send: everything that types, points, pastes or resizes."""
SECURITY_NONE: Final = 1
MAX_CUT_TEXT: Final = 1024 * 1024
"""Clipboard messages beyond this end the connection (TigerVNC's own limit is 256 KiB)."""


def message_length(buffer: bytes | bytearray) -> int | None:
    """Return the length of the whole message at the start of ``buffer``.

    None when more bytes are needed to know; :class:`ProtocolError` for an unknown type.
    """
    if not buffer:
        return None
    kind = buffer[0]
    fixed = {
        SET_PIXEL_FORMAT: 20,
        FRAMEBUFFER_UPDATE_REQUEST: 10,
        KEY_EVENT: 8,
        POINTER_EVENT: 6,
        ENABLE_CONTINUOUS_UPDATES: 10,
        XVP: 4,
    }
    if kind in fixed:
        return fixed[kind]
    if kind == SET_ENCODINGS:
        if len(buffer) < 4:
            return None
        count: int = struct.unpack_from(">H", buffer, 2)[0]
        return 4 + 4 * count
    if kind == CLIENT_CUT_TEXT:
        if len(buffer) < 8:
            return None
        # Negative lengths are the extended clipboard format: |length| bytes follow.
        length: int = abs(struct.unpack_from(">i", buffer, 4)[0])
        if length > MAX_CUT_TEXT:
            raise ProtocolError(f"ClientCutText of {length} bytes")
        return 8 + length
    if kind == CLIENT_FENCE:
        if len(buffer) < 9:
            return None
        return 9 + buffer[8]
    if kind == SET_DESKTOP_SIZE:
        if len(buffer) < 8:
            return None
        return 8 + 16 * buffer[6]
    if kind == QEMU:
        if len(buffer) < 2:
            return None
        if buffer[1] == 0:  # extended key event
            return 12
        raise ProtocolError(f"QEMU client message subtype {buffer[1]}")
    raise ProtocolError(f"unknown client message type {kind}")


@dataclass
class ClientStreamFilter:
    """Feed it what a client sends; it returns what may go on to the server."""

    view_only: bool
    phase: Phase = Phase.VERSION
    minor: int = 8
    dropped: int = 0
    _buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> bytes:
        """Return the complete, allowed messages in ``data`` (and earlier partial bytes)."""
        self._buffer += data
        out = bytearray()
        while True:
            chunk = self._next()
            if chunk is None:
                return bytes(out)
            out += chunk

    def _next(self) -> bytes | None:
        buffer = self._buffer
        if self.phase is Phase.VERSION:
            if len(buffer) < 12:
                return None
            version = bytes(buffer[:12])
            if version[:4] != b"RFB " or version[7:8] != b"." or version[11:] != b"\n":
                raise ProtocolError("not an RFB version string")
            self.minor = int(version[8:11]) if version[8:11].isdigit() else -1
            if version[4:8] != b"003." or self.minor not in {3, 7, 8}:
                raise ProtocolError(f"unsupported RFB version {version[:11]!r}")
            self.phase = Phase.SECURITY if self.minor >= 7 else Phase.CLIENT_INIT
            return self._take(12)
        if self.phase is Phase.SECURITY:
            if not buffer:
                return None
            if buffer[0] != SECURITY_NONE:
                raise ProtocolError(f"security type {buffer[0]} is not offered")
            self.phase = Phase.CLIENT_INIT
            return self._take(1)
        if self.phase is Phase.CLIENT_INIT:
            if not buffer:
                return None
            self._take(1)
            self.phase = Phase.MESSAGES
            return b"\x01"  # always shared: no client disconnects the others
        length = message_length(buffer)
        if length is None or len(buffer) < length:
            return None
        message = self._take(length)
        if self.view_only and message[0] in INPUT_MESSAGES:
            self.dropped += 1
            return b""
        return message

    def _take(self, count: int) -> bytes:
        chunk = bytes(self._buffer[:count])
        del self._buffer[:count]
        return chunk
