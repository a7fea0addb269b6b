"""A small RFB 3.8 client over the service's WebSocket, for the tests.

Handshake (version, security None, shared ClientInit, ServerInit), SetPixelFormat
(32 bpp true colour), SetEncodings (Raw only), FramebufferUpdateRequest, and the input
messages a controller or a hostile viewer sends: KeyEvent, PointerEvent, ClientCutText.
It keeps a copy of the framebuffer, updated from Raw rectangles.
"""

from __future__ import annotations

import asyncio
import struct
import time

import aiohttp

RETURN = 0xFF0D
SHIFT = 0xFFE1


class RfbError(Exception):
    """The server closed or sent something unexpected."""


class RfbClient:
    """One RFB connection over a WebSocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Use an open WebSocket (call :meth:`handshake` next)."""
        self.ws = ws
        self._buffer = bytearray()
        self.width = 0
        self.height = 0
        self.name = ""
        self.framebuffer = bytearray()
        self.updates = 0

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession, url: str) -> RfbClient:
        """Open the WebSocket at ``url`` and do the RFB handshake."""
        ws = await session.ws_connect(url, protocols=("binary",))
        client = cls(ws)
        try:
            await client.handshake()
        except BaseException:
            await ws.close()
            raise
        return client

    async def _read(self, count: int, timeout: float = 10.0) -> bytes:
        async with asyncio.timeout(timeout):
            while len(self._buffer) < count:
                message = await self.ws.receive()
                if message.type is not aiohttp.WSMsgType.BINARY:
                    raise RfbError(f"connection ended: {message.type} {message.data!r}")
                self._buffer += message.data
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    async def send(self, data: bytes) -> None:
        """Send raw bytes (hostile tests send whatever they like)."""
        await self.ws.send_bytes(data)

    async def handshake(self) -> None:
        """Version 3.8, security type None, shared ClientInit, read ServerInit."""
        version = await self._read(12)
        if not version.startswith(b"RFB 003."):
            raise RfbError(f"not RFB: {version!r}")
        await self.send(b"RFB 003.008\n")
        (count,) = await self._read(1)
        types = await self._read(count)
        if 1 not in types:
            raise RfbError(f"no security type None in {types!r}")
        await self.send(b"\x01")
        (result,) = struct.unpack(">I", await self._read(4))
        if result != 0:
            raise RfbError("security handshake failed")
        await self.send(b"\x01")  # shared
        self.width, self.height = struct.unpack(">HH", await self._read(4))
        await self._read(16)  # the server's pixel format
        (name_length,) = struct.unpack(">I", await self._read(4))
        self.name = (await self._read(name_length)).decode()
        self.framebuffer = bytearray(self.width * self.height * 4)
        # 32 bpp, depth 24, little endian, true colour, 8 bits per channel at 16/8/0.
        pixel_format = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
        await self.send(b"\x00\x00\x00\x00" + pixel_format)
        await self.send(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: Raw

    async def request_update(self, incremental: bool = False) -> None:
        """Ask for the whole screen."""
        await self.send(struct.pack(">BBHHHH", 3, int(incremental), 0, 0, self.width, self.height))

    async def read_update(self, timeout: float = 10.0) -> int:
        """Read server messages until one FramebufferUpdate is applied; return its rects."""
        while True:
            (kind,) = await self._read(1, timeout)
            if kind == 0:
                (_, count) = struct.unpack(">BH", await self._read(3, timeout))
                for _ in range(count):
                    x, y, w, h, encoding = struct.unpack(">HHHHi", await self._read(12, timeout))
                    if encoding != 0:
                        raise RfbError(f"unexpected encoding {encoding}")
                    pixels = await self._read(w * h * 4, timeout)
                    for row in range(h):
                        start = ((y + row) * self.width + x) * 4
                        self.framebuffer[start : start + w * 4] = pixels[
                            row * w * 4 : (row + 1) * w * 4
                        ]
                self.updates += 1
                return count
            if kind == 1:  # SetColourMapEntries
                _, _, n = struct.unpack(">BHH", await self._read(5, timeout))
                await self._read(6 * n, timeout)
            elif kind == 2:  # Bell
                continue
            elif kind == 3:  # ServerCutText
                _, length = struct.unpack(">3sI", await self._read(7, timeout))
                await self._read(length, timeout)
            else:
                raise RfbError(f"unexpected server message {kind}")

    async def frame(self, timeout: float = 10.0) -> bytes:
        """Request and read a full frame; return a copy of the framebuffer."""
        await self.request_update()
        await self.read_update(timeout)
        return bytes(self.framebuffer)

    async def key(self, keysym: int, down: bool) -> None:
        """Send one KeyEvent."""
        await self.send(struct.pack(">BBxxI", 4, int(down), keysym))

    async def tap(self, keysym: int) -> None:
        """Press and release a key."""
        await self.key(keysym, True)
        await self.key(keysym, False)

    async def type_text(self, text: str) -> None:
        """Type ASCII text (Latin-1 keysyms are the characters' codes), then Return."""
        for char in text:
            await self.tap(ord(char))
        await self.tap(RETURN)

    async def pointer(self, x: int, y: int, buttons: int = 0) -> None:
        """Send one PointerEvent."""
        await self.send(struct.pack(">BBHH", 5, buttons, x, y))

    async def click(self, x: int, y: int) -> None:
        """Press and release the left button at (x, y)."""
        await self.pointer(x, y, 1)
        await self.pointer(x, y, 0)

    async def cut_text(self, text: bytes) -> None:
        """Send ClientCutText."""
        await self.send(struct.pack(">B3xI", 6, len(text)) + text)

    async def close(self) -> None:
        """Close the WebSocket."""
        await self.ws.close()


async def wait_for(predicate: object, timeout: float = 15.0, interval: float = 0.05) -> None:
    """Wait (real time) until ``predicate()`` is true; fail with a clear message otherwise."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {getattr(predicate, '__name__', '?')}")
        await asyncio.sleep(interval)
