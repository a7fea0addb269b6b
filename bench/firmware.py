"""Benchmark: unit archive builds of the firmware service vs naive ``git archive`` + tarfile.

Creates its own repository (2,000 files, 10 MiB: half compressible source-like text,
half random "binary" data) in a temporary directory, registers it with a real
:class:`FirmwareService` (real git, real data directory), and measures:

* cold build: the first unit archive of a commit (validation, tree, body, tail);
* cached build: the same request again (median of 50);
* 100 distinct unit archives: 100 requests, each with its own env.json;
* the same 100 archives streamed out in full (what serving them costs), with each
  sha256 checked against the one the service announced;
* peak Python heap (tracemalloc), in a separate pass so tracing does not slow the timings:
  a cold build of the zip body, 20 more distinct archives, and streaming all of them
  (baseline: one archive).

The baseline is what one would write naively: ``git archive --format=tar`` into memory,
``tarfile`` in append mode for env.json and schema.json, ``gzip.compress`` of the whole
(level 6, as the service uses), written to disk and hashed — once per unit, since it has
no cache. It costs about a second per archive, so by default it builds 20 of the 100
and its 100-archive time is 5 times that (``--baseline-units 100`` measures all of them).

Run: ``scripts/bench firmware``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import gzip
import hashlib
import io
import json
import os
from pathlib import Path
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tracemalloc
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "addons" / "makerhub_firmware"))

from makerhub_firmware.archive import read_chunks  # noqa: E402
from makerhub_firmware.payloads import ArchiveRequest, RepoChanges  # noqa: E402
from makerhub_firmware.service import FirmwareService  # noqa: E402
from makerhub_firmware.settings import Settings  # noqa: E402

FILES = 2000
TOTAL_BYTES = 10 * 1024 * 1024
UNITS = 100
CACHED_RUNS = 50
GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_AUTHOR_DATE": "2024-05-01T12:00:00Z",
    "GIT_COMMITTER_DATE": "2024-05-01T12:00:00Z",
}
MAKERHUB_JSON = {
    "name": "Bench unit",
    "outputs": {"temperature": {"type": "float"}},
    "inputs": {"relay": {"type": "bool"}},
}
WORDS = ["temperature", "relay", "sensor", "mqtt", "publish", "value", "unit", "schema", "env"]


def git(cwd: Path, *args: str, capture: bool = False) -> bytes:
    return (
        subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True).stdout
        if capture
        else subprocess.run(
            ["git", *args], cwd=cwd, env=GIT_ENV, check=True, stdout=subprocess.DEVNULL
        ).stdout
    )


def make_repository(root: Path) -> tuple[Path, str]:
    """Return a bare repository of FILES files and TOTAL_BYTES bytes, and its commit."""
    rng = random.Random(42)
    work = root / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    per_file = TOTAL_BYTES // FILES
    written = 0
    for index in range(FILES):
        directory = work / f"module{index % 40:02d}"
        directory.mkdir(exist_ok=True)
        size = per_file if index < FILES - 1 else TOTAL_BYTES - written - 200
        if index % 2:
            data = rng.randbytes(size)
            path = directory / f"blob{index:04d}.bin"
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(size // 6 + 1))
            data = text.encode()[:size]
            path = directory / f"source{index:04d}.py"
        path.write_bytes(data)
        written += len(data)
    (work / "makerhub.json").write_text(json.dumps(MAKERHUB_JSON))
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "Bench firmware")
    bare = root / "bench.git"
    git(root, "clone", "-q", "--bare", str(work), str(bare))
    commit = git(work, "rev-parse", "HEAD", capture=True).decode().strip()
    return bare, commit


def env_for(unit: int) -> dict[str, Any]:
    return {
        "MH_UNIT_ID": f"{unit:012x}",
        "MH_MQTT_HOST": "192.168.1.10",
        "MH_MQTT_PASSWORD": f"password-{unit}",
        "MH_VERSION": "bench",
    }


SCHEMA = {"v": 1, "unit": "000000000000", "inputs": {}, "outputs": {}, "sys": {}}


def naive_archive(bare: Path, commit: str, env: dict[str, Any], out: Path) -> str:
    """The baseline: git archive into memory, tarfile append, gzip the whole, hash."""
    tar_bytes = subprocess.run(
        ["git", f"--git-dir={bare}", "archive", "--format=tar", commit],
        env=GIT_ENV,
        check=True,
        capture_output=True,
    ).stdout
    buffer = io.BytesIO(tar_bytes)
    with tarfile.open(fileobj=buffer, mode="a") as tar:
        for name, content in (("env.json", env), ("schema.json", SCHEMA)):
            data = json.dumps(content, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    compressed = gzip.compress(buffer.getvalue(), compresslevel=6, mtime=0)
    out.write_bytes(compressed)
    return hashlib.sha256(compressed).hexdigest()


def measure_peak(action: Callable[[], Any]) -> tuple[Any, float, int]:
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, elapsed, peak


async def makerhub_side(root: Path, bare: Path) -> dict[str, float]:
    settings = Settings(
        data_dir=root / "data",
        token="bench-token-0123456789",
        allowed_schemes=frozenset({"https", "ssh", "file"}),
    )
    settings.data_dir.mkdir()
    service = FirmwareService(settings)
    await service.start()
    try:
        record = await service.add(
            RepoChanges(
                name="bench", url=f"file://{bare}", size_limit=64 * 1024 * 1024, sync_interval=0
            )
        )

        def request(unit: int) -> ArchiveRequest:
            return ArchiveRequest("main", env_for(unit), SCHEMA, "tar.gz", None)

        started = time.perf_counter()
        first = await service.build_archive(record.id, request(0))
        cold = time.perf_counter() - started
        cached_times = []
        for _ in range(CACHED_RUNS):
            started = time.perf_counter()
            again = await service.build_archive(record.id, request(0))
            cached_times.append(time.perf_counter() - started)
            assert again.sha256 == first.sha256
        started = time.perf_counter()
        archives = [
            await service.build_archive(record.id, request(unit)) for unit in range(1, UNITS + 1)
        ]
        hundred = time.perf_counter() - started
        assert len({a.sha256 for a in archives}) == UNITS
        # memory in a separate pass, so tracing does not slow the timed one
        tracemalloc.start()
        zipped = ArchiveRequest("main", env_for(0), SCHEMA, "zip", None)
        await service.build_archive(record.id, zipped)  # a cold body build, traced
        for unit in range(UNITS + 1, UNITS + 21):
            await service.build_archive(record.id, request(unit))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        def stream_all() -> None:
            for archive in archives:
                digest = hashlib.sha256()
                for chunk in read_chunks(service.cache.body_path(archive.body)):
                    digest.update(chunk)
                digest.update(service.cache.load_tail(archive.id))
                assert digest.hexdigest() == archive.sha256, "announced sha256 is wrong"

        started = time.perf_counter()
        await asyncio.to_thread(stream_all)
        streamed = time.perf_counter() - started
        _, _, stream_peak = await asyncio.to_thread(measure_peak, stream_all)
        return {
            "cold": cold,
            "cached": statistics.median(cached_times),
            "hundred": hundred,
            "hundred_streamed": hundred + streamed,
            "peak": max(peak, stream_peak),
            "size": first.size,
        }
    finally:
        await service.stop()


def baseline_side(root: Path, bare: Path, commit: str, units: int) -> dict[str, float]:
    out = root / "baseline"
    out.mkdir()
    started = time.perf_counter()
    naive_archive(bare, commit, env_for(0), out / "unit-0.tar.gz")
    cold = time.perf_counter() - started
    repeat = []
    for _ in range(3):
        started = time.perf_counter()
        naive_archive(bare, commit, env_for(0), out / "unit-0.tar.gz")
        repeat.append(time.perf_counter() - started)

    def many() -> set[str]:
        return {
            naive_archive(bare, commit, env_for(unit), out / f"unit-{unit}.tar.gz")
            for unit in range(1, units + 1)
        }

    started = time.perf_counter()
    shas = many()
    elapsed = (time.perf_counter() - started) * UNITS / units
    assert len(shas) == units
    _, _, peak = measure_peak(
        lambda: naive_archive(bare, commit, env_for(units + 1), out / "unit-peak.tar.gz")
    )
    return {
        "cold": cold,
        "cached": statistics.median(repeat),
        "hundred": elapsed,
        "hundred_streamed": elapsed,
        "peak": peak,
        "size": (out / "unit-0.tar.gz").stat().st_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--baseline-units",
        type=int,
        default=20,
        choices=range(1, UNITS + 1),
        metavar="N",
        help="baseline archives actually built (default 20)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="makerhub-bench-") as temp:
        root = Path(temp)
        started = time.perf_counter()
        bare, commit = make_repository(root)
        print(
            f"repository: {FILES} files, {TOTAL_BYTES / 2**20:.0f} MiB "
            f"(made in {time.perf_counter() - started:.1f} s); {UNITS} units"
        )
        ours = asyncio.run(makerhub_side(root, bare))
        base = baseline_side(root, bare, commit, args.baseline_units)
    rows = [
        ("cold build, 1 archive", "cold", "s"),
        ("cached build (median of 50)", "cached", "ms"),
        (f"{UNITS} distinct unit archives", "hundred", "s"),
        (f"{UNITS} archives + every byte streamed", "hundred_streamed", "s"),
        ("peak Python heap while building", "peak", "MiB"),
    ]

    def fmt(value: float, unit: str) -> str:
        if unit == "ms":
            return f"{value * 1000:.2f} ms"
        if unit == "MiB":
            return f"{value / 2**20:.1f} MiB"
        return f"{value:.3f} s"

    widths = (38, 12, 14, 19)

    def line(cells: tuple[str, ...]) -> str:
        first, *rest = cells
        return (
            "| "
            + " | ".join(
                [first.ljust(widths[0])]
                + [cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)]
            )
            + " |"
        )

    print()
    print(line(("measurement", "makerhub", "naive baseline", "baseline / makerhub")))
    print("|" + "|".join(["-" * (widths[0] + 2)] + ["-" * (w + 1) + ":" for w in widths[1:]]) + "|")
    for label, key, unit in rows:
        ratio = base[key] / ours[key] if ours[key] else float("inf")
        print(line((label, fmt(ours[key], unit), fmt(base[key], unit), f"{ratio:.1f}x")))
    print()
    mib = 2**20
    print(
        f"archive size: makerhub {ours['size'] / mib:.2f} MiB, "
        f"baseline {base['size'] / mib:.2f} MiB"
    )
    print("baseline has no cache: its 'cached' row is the same request built again (median of 3)")
    if args.baseline_units != UNITS:
        print(f"baseline {UNITS}-archive rows: {args.baseline_units} built, time scaled to {UNITS}")
    targets = [
        ("cached build <= 20 ms", ours["cached"] <= 0.020),
        (f"{UNITS} distinct unit archives <= 10 s", ours["hundred"] <= 10.0),
        # streamed: a few 256 KiB buffers and the tree listing, not the archive itself
        ("memory bounded (peak heap <= 4 MiB)", ours["peak"] <= 4 * 2**20),
    ]
    for label, ok in targets:
        print(f"target {label}: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
