"""Reading blobs from ``git cat-file --batch`` in bounded chunks (worker-thread side)."""

from __future__ import annotations

from collections.abc import Iterator
import subprocess
from types import TracebackType
from typing import Final, Self

from .gitcmd import GitCommandError

CHUNK: Final = 256 * 1024


class BlobReader:
    """One ``git cat-file --batch`` process; reads blobs one after another.

    Used from the archive builder's worker thread: each request is one line in, one
    header line and the content out, so the pipes never fill up.
    """

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        """Take over a started ``git cat-file --batch`` process."""
        assert process.stdin is not None
        assert process.stdout is not None
        self._process = process
        self._stdin = process.stdin
        self._stdout = process.stdout

    def chunks(self, oid: str, size: int) -> Iterator[bytes]:
        """Yield the blob ``oid`` (which must be ``size`` bytes) in bounded chunks."""
        self._stdin.write(oid.encode() + b"\n")
        self._stdin.flush()
        header = self._stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob" or int(header[2]) != size:
            raise GitCommandError(
                f"git cat-file: unexpected answer for {oid}: {b' '.join(header)!r}"
            )
        remaining = size
        while remaining:
            chunk = self._stdout.read(min(CHUNK, remaining))
            if not chunk:
                raise GitCommandError(f"git cat-file: blob {oid} ended early")
            remaining -= len(chunk)
            yield chunk
        if self._stdout.read(1) != b"\n":
            raise GitCommandError(f"git cat-file: blob {oid} is not terminated")

    def read(self, oid: str, size: int) -> bytes:
        """Return a whole (small) blob."""
        return b"".join(self.chunks(oid, size))

    def close(self) -> None:
        """End the process."""
        self._stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._stdout.close()

    def __enter__(self) -> Self:
        """Use as a context manager."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the process."""
        self.close()
