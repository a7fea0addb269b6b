"""Benchmark: recording cameras with the recorder's copy pipeline vs re-encoding them.

A real RTSP camera (GStreamer, ``dev/processes/rtsp_camera.py``) serves one 1080p H.264
stream (shared: every client gets the same packets, the camera's own encoding is not
counted). In the same run the benchmark measures, per recorded camera:

* **copy**: the recorder's own ffmpeg command (``ffmpeg.record_command``: ``-c copy`` into
  2 s fragmented MP4 segments) — ``--copies`` of them at once against the stream;
* **re-encode**: the naive setup's default, the same stream decoded and encoded again
  with libx264 (``-preset veryfast``) — ``--reencodes`` of them.

CPU is each ffmpeg's user + system time from ``/proc/<pid>/stat`` over the measured
window (after a warm-up), as a fraction of one core; memory is its peak resident set
(``VmHWM``). "Cameras per core" is 1 / (CPU per camera).

It then starts the real :class:`~makerhub_recorder.service.RecorderService` in-process
and times (median of ``--starts``) a cold camera — added, connected, first frame
received — and, with the camera's buffer warm, the time from "space active"
(``start_recording``) to the first recorded frame: the recording begins ``pre_roll``
seconds in the past, so its first frame is on disk before the request returns.

Run: ``scripts/bench cameras [--seconds 20] [--copies 16] [--reencodes 1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "addons" / "makerhub_recorder"))
sys.path.insert(0, str(ROOT))

from makerhub_recorder import ffmpeg  # noqa: E402
from makerhub_recorder.service import RecorderService  # noqa: E402
from makerhub_recorder.settings import Settings  # noqa: E402
from makerhub_recorder.validation import parse_source  # noqa: E402

from dev.processes.rtsp_camera import RtspCamera  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_kib(pid: int) -> int:
    """Peak resident set of a process (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def measure(commands: list[list[str]], warmup: float, seconds: float) -> tuple[float, float]:
    """Run the commands at once; return CPU (fraction of a core) and peak MiB per process."""
    processes = [
        subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        for c in commands
    ]  # fmt: skip
    try:
        time.sleep(warmup)
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("an ffmpeg ended during the warm-up (is the camera up?)")
        start = [cpu_seconds(p.pid) for p in processes]
        began = time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - began
        used = [cpu_seconds(p.pid) - s for p, s in zip(processes, start, strict=True)]
        rss = [peak_rss_kib(p.pid) / 1024 for p in processes]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(20)
    return statistics.mean(used) / elapsed, statistics.mean(rss)


async def start_times(url: str, work: Path, runs: int) -> tuple[list[float], list[float]]:
    """Cold camera → first frame, and "active" → first recorded frame (warm buffer)."""
    cold: list[float] = []
    active: list[float] = []
    for run in range(runs):
        settings = Settings(
            data_dir=work / f"service-{run}", token="bench-token-0123456789", pre_roll=4.0,
            free_floor_bytes=0,
        )  # fmt: skip
        service = RecorderService(settings)
        await service.start(housekeeping=False)
        try:
            began = time.monotonic()
            recorder = await service.add_camera({"source": url})
            while not recorder.connected:
                await asyncio.sleep(0.01)
            cold.append(time.monotonic() - began)
            while not recorder.segments:
                await asyncio.sleep(0.05)
            asked = time.time()
            span = recorder.start_recording()
            first = recorder.segments[0]
            # The recording's first frame is the first frame of the first segment it keeps.
            if not span.start <= first.end:
                raise RuntimeError("the recording does not reach back into the buffer")
            active.append(max(0.0, first.start - asked))
        finally:
            await service.close()
    return cold, active


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--copies", type=int, default=16, help="copy recorders at once")
    parser.add_argument("--reencodes", type=int, default=1, help="re-encoders at once")
    parser.add_argument("--starts", type=int, default=5, help="cold starts to time")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--bitrate", type=int, default=4000, help="the camera's kbit/s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cameras-") as folder:
        work = Path(folder)
        camera = RtspCamera(
            width=args.width, height=args.height, fps=args.fps, keyframe=args.fps,
            bitrate=args.bitrate,
        )  # fmt: skip
        camera.start()
        try:
            source = parse_source(camera.url)
            copies = []
            for index in range(args.copies):
                out = work / f"copy-{index}"
                out.mkdir()
                copies.append(
                    ffmpeg.record_command(
                        "ffmpeg", source, out, "run", segment_seconds=2.0, timeout=10.0
                    )
                )
            reencodes = [
                ffmpeg.reencode_command("ffmpeg", source, work / f"reencode-{i}.mp4", 10.0)
                for i in range(args.reencodes)
            ]
            print(f"camera: {args.width}x{args.height} H.264 at {args.fps} fps, "
                  f"{args.bitrate} kbit/s over RTSP", file=sys.stderr)  # fmt: skip
            copy_cpu, copy_rss = measure(copies, args.warmup, args.seconds)
            reencode_cpu, reencode_rss = measure(reencodes, args.warmup, args.seconds)
            cold, active = asyncio.run(start_times(camera.url, work, args.starts))
        finally:
            camera.kill()

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(cells) + " |"

    print()
    print(line(("per recorded camera", "makerhub (copy)", "re-encode (libx264)", "ratio")))
    print("|---|---:|---:|---:|")
    print(line(("CPU (share of one core)", f"{copy_cpu:.4f}", f"{reencode_cpu:.4f}",
                f"{copy_cpu / reencode_cpu:.3f}x" if reencode_cpu else "-")))  # fmt: skip
    print(line(("peak memory (MiB)", f"{copy_rss:.1f}", f"{reencode_rss:.1f}",
                f"{copy_rss / reencode_rss:.2f}x" if reencode_rss else "-")))  # fmt: skip
    per_core = 1 / copy_cpu if copy_cpu else float("inf")
    per_core_reencode = 1 / reencode_cpu if reencode_cpu else float("inf")
    print(line(("cameras per core", f"{per_core:.0f}", f"{per_core_reencode:.1f}",
                f"{per_core / per_core_reencode:.0f}x")))  # fmt: skip
    print()
    print(f"measured: {args.copies} copy recorders and {args.reencodes} re-encoder(s) at once, "
          f"{args.seconds:g} s each after {args.warmup:g} s of warm-up")  # fmt: skip
    print(f"cold camera → first frame received: median {statistics.median(cold):.2f} s "
          f"(max {max(cold):.2f} s, {len(cold)} starts)")  # fmt: skip
    print(f"space active → first recorded frame: median {statistics.median(active):.2f} s "
          "(the pre-roll buffer: the recording starts in the past)")  # fmt: skip
    targets = [
        ("CPU <= 1/10 of re-encoding", copy_cpu <= reencode_cpu / 10),
        (">= 16 cameras per core", per_core >= 16),
        ("space active -> first recorded frame <= 2 s", max(active) <= 2),
    ]
    for label, ok in targets:
        print(f"target {label}: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
