"""Draw Makerhub's brand images: the icon and logo Home Assistant, HACS and the add-on show.

The mark is a gear (making things) around a hub whose three spokes reach three nodes (the
units). The logo sets a ``makerhub`` wordmark, drawn with the same round strokes, beside it.
Every shape is a signed distance field evaluated with numpy, so edges are anti-aliased,
the images are trimmed to the pixel and a run always draws the same pixels.

The files follow the home-assistant/brands rules: PNG in sRGB, transparent, trimmed,
interlaced and losslessly compressed; icons 256x256 and 512x512; logos with their shortest
side 256 and 512 pixels. ``scripts/brand`` writes them; ``tests/release/test_brand.py``
checks the rules and that the committed files are what this script draws.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
import math
from pathlib import Path
import struct
import sys
import zlib

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[2]
DOMAIN = "makerhub"
# Home Assistant >= 2026.3 serves these and HACS validates them: custom_components/<domain>/brand/
INTEGRATION_BRAND = REPO / "custom_components" / DOMAIN / "brand"
# The same files laid out as the home-assistant/brands repository expects them.
BRANDS_REPOSITORY = REPO / "brands" / "custom_integrations" / DOMAIN
ADDON = REPO / "addons" / "makerhub_firmware"

Field = npt.NDArray[np.float64]
Shape = Callable[[Field, Field], Field]
Color = tuple[int, int, int]

ORANGE: Color = (0xF9, 0x73, 0x16)  # the gear and "hub"
TEAL: Color = (0x14, 0xB8, 0xA6)  # the hub and its units
INK: Color = (0x1F, 0x29, 0x37)  # "maker" on light backgrounds
INK_ON_DARK: Color = (0xF3, 0xF4, 0xF6)  # "maker" on dark backgrounds


# --- shapes: signed distance (negative inside) in design units -------------------------


def disc(cx: float, cy: float, radius: float) -> Shape:
    """A filled circle."""
    return lambda x, y: np.hypot(x - cx, y - cy) - radius


def stroke(x0: float, y0: float, x1: float, y1: float, half_width: float) -> Shape:
    """A straight stroke with round ends."""
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy

    def field(x: Field, y: Field) -> Field:
        px, py = x - x0, y - y0
        t = np.clip((px * dx + py * dy) / length2, 0.0, 1.0) if length2 else 0.0
        return np.hypot(px - t * dx, py - t * dy) - half_width

    return field


def arc(
    centre: tuple[float, float], radius: float, start: float, sweep: float, half_width: float
) -> Shape:
    """A round-ended stroke along a circle, ``sweep`` degrees anticlockwise from ``start``."""
    cx, cy = centre
    ends = [
        (cx + radius * math.cos(math.radians(a)), cy + radius * math.sin(math.radians(a)))
        for a in (start, start + sweep)
    ]

    def field(x: Field, y: Field) -> Field:
        angle = (np.degrees(np.arctan2(y - cy, x - cx)) - start) % 360.0
        along = np.abs(np.hypot(x - cx, y - cy) - radius)
        to_ends = np.minimum(*(np.hypot(x - ex, y - ey) for ex, ey in ends))
        return np.where(angle <= sweep, along, to_ends) - half_width

    return field


def spoke_box(
    centre: tuple[float, float],
    angle: float,
    reach: tuple[float, float],
    half_width: float,
    corner: float,
) -> Shape:
    """A rectangle with rounded corners from ``reach[0]`` to ``reach[1]`` along ``angle``."""
    cx, cy = centre
    inner, outer = reach
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    middle, half_length = (inner + outer) / 2, (outer - inner) / 2

    def field(x: Field, y: Field) -> Field:
        u = (x - cx) * cos + (y - cy) * sin - middle
        v = -(x - cx) * sin + (y - cy) * cos
        qu = np.abs(u) - half_length + corner
        qv = np.abs(v) - half_width + corner
        outside: Field = np.hypot(np.maximum(qu, 0.0), np.maximum(qv, 0.0))
        inside: Field = np.minimum(np.maximum(qu, qv), 0.0)
        return outside + inside - corner

    return field


def union(shapes: Iterable[Shape]) -> Shape:
    """Every point inside any of ``shapes``."""
    members = list(shapes)

    def field(x: Field, y: Field) -> Field:
        result = members[0](x, y)
        for shape in members[1:]:
            result = np.minimum(result, shape(x, y))
        return result

    return field


def minus(shape: Shape, hole: Shape) -> Shape:
    """``shape`` with ``hole`` cut out of it."""
    return lambda x, y: np.maximum(shape(x, y), -hole(x, y))


# --- the mark: a unit square, y up ------------------------------------------------------


def mark() -> list[Layer]:
    """The gear and the hub, as layers in the unit square."""
    c = 0.5
    teeth = [spoke_box((c, c), 45 * k, (0.30, 0.5), 0.072, 0.025) for k in range(8)]
    gear = minus(union([disc(c, c, 0.375), *teeth]), disc(c, c, 0.255))
    nodes = [90.0, 210.0, 330.0]
    points = [
        (c + 0.16 * math.cos(math.radians(a)), c + 0.16 * math.sin(math.radians(a))) for a in nodes
    ]
    hub = union(
        [
            disc(c, c, 0.072),
            *(stroke(c, c, px, py, 0.026) for px, py in points),
            *(disc(px, py, 0.052) for px, py in points),
        ]
    )
    return [Layer(ORANGE, gear, (0.0, 1.0)), Layer(TEAL, hub, (0.0, 1.0))]


# --- the wordmark: x-height 1, baseline y = 0 ---------------------------------------------

HALF = 0.11  # half the stroke width
ASCENDER = 1.42  # top of b, h, k, f and the i's dot
BOWL = 0.5 - HALF  # radius of round letters' centre line
GAP = 0.2  # between letters


def _glyph_a(ox: float) -> tuple[list[Shape], float]:
    return [
        arc((ox + HALF + BOWL, 0.5), BOWL, 0, 360, HALF),
        stroke(ox + HALF + 2 * BOWL, HALF, ox + HALF + 2 * BOWL, 1 - HALF, HALF),
    ], 2 * HALF + 2 * BOWL


def _glyph_b(ox: float) -> tuple[list[Shape], float]:
    return [
        stroke(ox + HALF, HALF, ox + HALF, ASCENDER - HALF, HALF),
        arc((ox + HALF + BOWL, 0.5), BOWL, 0, 360, HALF),
    ], 2 * HALF + 2 * BOWL


def _glyph_e(ox: float) -> tuple[list[Shape], float]:
    return [
        arc((ox + HALF + BOWL, 0.5), BOWL, 0, 318, HALF),
        stroke(ox + HALF, 0.5, ox + HALF + 2 * BOWL, 0.5, HALF),
    ], 2 * HALF + 2 * BOWL


def _glyph_f(ox: float) -> tuple[list[Shape], float]:
    stem, hook = ox + HALF + 0.14, 0.27
    top = ASCENDER - HALF - hook
    return [
        stroke(stem, HALF, stem, top, HALF),
        arc((stem + hook, top), hook, 45, 135, HALF),
        stroke(ox + HALF, 1 - HALF, ox + HALF + 0.5, 1 - HALF, HALF),
    ], stem + hook + hook * math.cos(math.radians(45)) + HALF - ox


def _arches(ox: float, radius: float, count: int, left_top: float) -> tuple[list[Shape], float]:
    """n, m and h: a left stem up to ``left_top`` and ``count`` arches down to the baseline."""
    spring = 1 - HALF - radius
    shapes = [stroke(ox + HALF, HALF, ox + HALF, left_top, HALF)]
    for k in range(count):
        left = ox + HALF + 2 * radius * k
        shapes.append(arc((left + radius, spring), radius, 0, 180, HALF))
        shapes.append(stroke(left + 2 * radius, HALF, left + 2 * radius, spring, HALF))
    return shapes, 2 * HALF + 2 * radius * count


def _glyph_h(ox: float) -> tuple[list[Shape], float]:
    return _arches(ox, BOWL, 1, ASCENDER - HALF)


def _glyph_i(ox: float) -> tuple[list[Shape], float]:
    return [
        stroke(ox + HALF, HALF, ox + HALF, 1 - HALF, HALF),
        disc(ox + HALF, ASCENDER - HALF, HALF * 1.2),
    ], 2 * HALF


def _glyph_k(ox: float) -> tuple[list[Shape], float]:
    stem = ox + HALF
    return [
        stroke(stem, HALF, stem, ASCENDER - HALF, HALF),
        stroke(stem, 0.34, stem + 0.6, 1 - HALF, HALF),
        stroke(stem + 0.23, 0.55, stem + 0.64, HALF, HALF),
    ], 2 * HALF + 0.64


def _glyph_m(ox: float) -> tuple[list[Shape], float]:
    return _arches(ox, 0.29, 2, 1 - HALF)


def _glyph_r(ox: float) -> tuple[list[Shape], float]:
    radius = 0.32
    centre = ox + HALF + radius
    end = 62.0
    return [
        stroke(ox + HALF, HALF, ox + HALF, 1 - HALF, HALF),
        arc((centre, 1 - HALF - radius), radius, end, 180 - end, HALF),
    ], centre + radius * math.cos(math.radians(end)) + HALF - ox


def _glyph_u(ox: float) -> tuple[list[Shape], float]:
    low = HALF + BOWL
    return [
        stroke(ox + HALF, 1 - HALF, ox + HALF, low, HALF),
        arc((ox + HALF + BOWL, low), BOWL, 180, 180, HALF),
        stroke(ox + HALF + 2 * BOWL, HALF, ox + HALF + 2 * BOWL, 1 - HALF, HALF),
    ], 2 * HALF + 2 * BOWL


def _glyph_w(ox: float) -> tuple[list[Shape], float]:
    xs = [ox + HALF + 0.21 * k for k in range(5)]
    ys = [1 - HALF, HALF, 0.78, HALF, 1 - HALF]
    return [
        stroke(x0, y0, x1, y1, HALF) for x0, y0, x1, y1 in zip(xs, ys, xs[1:], ys[1:], strict=False)
    ], 2 * HALF + 0.84


GLYPHS: dict[str, Callable[[float], tuple[list[Shape], float]]] = {
    "a": _glyph_a,
    "b": _glyph_b,
    "e": _glyph_e,
    "f": _glyph_f,
    "h": _glyph_h,
    "i": _glyph_i,
    "k": _glyph_k,
    "m": _glyph_m,
    "r": _glyph_r,
    "u": _glyph_u,
    "w": _glyph_w,
}


@dataclass(frozen=True)
class Layer:
    """A shape in one colour; ``span`` bounds it horizontally (design units) when known."""

    color: Color
    shape: Shape
    span: tuple[float, float] | None = None


def words(parts: Sequence[tuple[str, Color]]) -> tuple[list[Layer], float]:
    """Set ``parts`` (text, colour) on one line; return a layer a letter and the line's width."""
    layers = []
    ox = 0.0
    for text, color in parts:
        for letter in text:
            shapes, width = GLYPHS[letter](ox)
            layers.append(Layer(color, union(shapes), (ox - GAP / 2, ox + width + GAP / 2)))
            ox += width + GAP
    return layers, ox - GAP


# --- rendering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Layers moved and scaled onto a canvas, in pixels (y down)."""

    layers: list[Layer]
    left: float
    baseline: float
    scale: float


def render(width: int, height: int, placements: Sequence[Placement]) -> npt.NDArray[np.uint8]:
    """RGBA pixels: each layer's coverage composited over the ones before it."""
    color = np.zeros((height, width, 3))
    alpha = np.zeros((height, width))
    for placement in placements:
        for layer in placement.layers:
            first, last = 0, width
            if layer.span is not None:
                first = max(0, math.floor(placement.left + layer.span[0] * placement.scale) - 1)
                last = min(width, math.ceil(placement.left + layer.span[1] * placement.scale) + 1)
            rows, columns = np.mgrid[0:height, first:last].astype(np.float64) + 0.5
            x = (columns - placement.left) / placement.scale
            y = (placement.baseline - rows) / placement.scale
            coverage = np.clip(0.5 - layer.shape(x, y) * placement.scale, 0.0, 1.0)[..., None]
            rgb = np.asarray(layer.color, dtype=np.float64) / 255
            color[:, first:last] = rgb * coverage + color[:, first:last] * (1 - coverage)
            alpha[:, first:last] = coverage[..., 0] + alpha[:, first:last] * (1 - coverage[..., 0])
    opaque = alpha[..., None]
    straight = np.divide(color, opaque, out=np.zeros_like(color), where=opaque > 0)
    pixels = np.dstack([straight, alpha])
    return np.asarray(np.rint(pixels * 255), dtype=np.uint8)


def trimmed(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``pixels`` without fully transparent rows and columns at the edges."""
    rows = np.flatnonzero(pixels[..., 3].any(axis=1))
    columns = np.flatnonzero(pixels[..., 3].any(axis=0))
    return pixels[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]


def icon(size: int) -> npt.NDArray[np.uint8]:
    """The mark alone, ``size`` pixels square."""
    return render(size, size, [Placement(mark(), 0.0, float(size), float(size))])


TEXT_HEIGHT = 0.40  # the wordmark's x-height, in mark heights
TEXT_GAP = 0.18  # between the mark and the wordmark, in mark heights


def logo(height: int, ink: Color) -> npt.NDArray[np.uint8]:
    """The mark and the wordmark on one line, ``height`` pixels high, trimmed."""
    text, text_width = words([("maker", ink), ("hub", ORANGE)])
    x_height = TEXT_HEIGHT * height
    baseline = height / 2 + ASCENDER * x_height / 2
    left = height * (1 + TEXT_GAP)
    width = math.ceil(left + text_width * x_height) + 2
    pixels = render(
        width,
        height,
        [
            Placement(mark(), 0.0, float(height), float(height)),
            Placement(text, left, baseline, x_height),
        ],
    )
    return trimmed(pixels)


ADDON_ICON = 128
ADDON_LOGO = (250, 100)


def addon_logo() -> npt.NDArray[np.uint8]:
    """The add-on store's 250x100 logo: the mark, then "makerhub" over "firmware"."""
    width, height = ADDON_LOGO
    top, top_width = words([("maker", INK), ("hub", ORANGE)])
    bottom, bottom_width = words([("firmware", INK)])
    left = height * (1 + TEXT_GAP / 1.5)
    x_height = (width - left) / max(top_width, bottom_width)
    line = ASCENDER + 0.5  # baseline to baseline, in x-heights
    first = height / 2 - (line + ASCENDER) * x_height / 2 + ASCENDER * x_height
    return render(
        width,
        height,
        [
            Placement(mark(), 0.0, float(height), float(height)),
            Placement(top, left, first, x_height),
            Placement(bottom, left, first + line * x_height, x_height),
        ],
    )


# --- PNG -------------------------------------------------------------------------------------

# Adam7 passes: first row, first column, row step, column step.
ADAM7 = (
    (0, 0, 8, 8),
    (0, 4, 8, 8),
    (4, 0, 8, 4),
    (0, 2, 4, 4),
    (2, 0, 4, 2),
    (0, 1, 2, 2),
    (1, 0, 2, 1),
)


def _filtered(rows: npt.NDArray[np.int16], choice: int | None) -> bytes:
    """PNG-filter each row (4 bytes a pixel); ``None`` picks each row's smallest filter."""
    above = np.vstack([np.zeros_like(rows[:1]), rows[:-1]])
    left = np.hstack([np.zeros_like(rows[:, :4]), rows[:, :-4]])
    above_left = np.hstack([np.zeros_like(above[:, :4]), above[:, :-4]])
    estimate = left + above - above_left
    pa, pb, pc = np.abs(estimate - left), np.abs(estimate - above), np.abs(estimate - above_left)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, above, above_left))
    candidates = np.stack(
        [rows, rows - left, rows - above, rows - (left + above) // 2, rows - paeth]
    ).astype(np.uint8)
    if choice is None:
        cost = np.abs(candidates.view(np.int8).astype(np.int32)).sum(axis=2)
        kinds = cost.argmin(axis=0)
    else:
        kinds = np.full(rows.shape[0], choice)
    chosen = candidates[kinds, np.arange(rows.shape[0])]
    return np.hstack([kinds.astype(np.uint8)[:, None], chosen]).tobytes()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(pixels: npt.NDArray[np.uint8]) -> bytes:
    """An interlaced 8-bit RGBA PNG in sRGB, with the filtering that compresses smallest."""
    height, width, _ = pixels.shape
    passes = [
        pixels[r0::rs, c0::cs].reshape(len(range(r0, height, rs)), -1).astype(np.int16)
        for r0, c0, rs, cs in ADAM7
        if r0 < height and c0 < width
    ]
    data = min(
        (
            zlib.compress(b"".join(_filtered(rows, choice) for rows in passes), 9)
            for choice in (None, 0, 1, 2, 3, 4)
        ),
        key=len,
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 1)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"sRGB", b"\x00")
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def drawings() -> dict[str, npt.NDArray[np.uint8]]:
    """Every brand image's RGBA pixels by its path relative to the repository."""
    brand = {
        "icon.png": icon(256),
        "icon@2x.png": icon(512),
        "logo.png": logo(256, INK),
        "logo@2x.png": logo(512, INK),
        "dark_logo.png": logo(256, INK_ON_DARK),
        "dark_logo@2x.png": logo(512, INK_ON_DARK),
    }
    files = {}
    for folder in (INTEGRATION_BRAND, BRANDS_REPOSITORY):
        for name, pixels in brand.items():
            files[str((folder / name).relative_to(REPO))] = pixels
    files[str((ADDON / "icon.png").relative_to(REPO))] = icon(ADDON_ICON)
    files[str((ADDON / "logo.png").relative_to(REPO))] = addon_logo()
    return files


def main() -> int:
    """Write every brand image."""
    encoded: dict[int, bytes] = {}  # the two brand folders share their drawings
    for path, pixels in drawings().items():
        if id(pixels) not in encoded:
            encoded[id(pixels)] = png(pixels)
        data = encoded[id(pixels)]
        target = REPO / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        print(f"{path}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
