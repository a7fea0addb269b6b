"""Brand images follow the home-assistant/brands rules and are what scripts/brand draws."""

from __future__ import annotations

import io
from pathlib import Path
import sys

import numpy as np
from PIL import Image
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "lib"))

import brand  # noqa: E402

FOLDERS = (
    ROOT / "custom_components" / "makerhub" / "brand",
    ROOT / "brands" / "custom_integrations" / "makerhub",
)
NAMES = (
    "icon.png",
    "icon@2x.png",
    "logo.png",
    "logo@2x.png",
    "dark_logo.png",
    "dark_logo@2x.png",
)
ADDON = ROOT / "addons" / "makerhub_firmware"


def opened(path: Path) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image


def test_both_folders_hold_the_same_files() -> None:
    """The brands repository layout and the integration's brand/ are byte-identical copies."""
    integration, repository = FOLDERS
    assert sorted(p.name for p in integration.iterdir()) == sorted(NAMES)
    assert sorted(p.name for p in repository.iterdir()) == sorted(NAMES)
    for name in NAMES:
        assert (integration / name).read_bytes() == (repository / name).read_bytes(), name


@pytest.mark.parametrize("name", NAMES)
def test_brands_rules(name: str) -> None:
    """PNG, sRGB, interlaced, transparent, trimmed, sized as the brands README says."""
    path = FOLDERS[0] / name
    image = opened(path)
    assert image.format == "PNG"
    assert image.mode == "RGBA"
    assert image.info.get("interlace") == 1
    assert image.info.get("srgb") == 0
    width, height = image.size
    hdpi = "@2x" in name
    if "icon" in name:
        assert image.size == ((512, 512) if hdpi else (256, 256))
    else:
        # Landscape, shortest side at the largest size allowed (256, or 512 for hDPI).
        assert width > height
        assert height == (512 if hdpi else 256)
    alpha = image.getchannel("A")
    # Trimmed: something drawn on every edge; transparent around the drawing.
    assert alpha.getbbox() == (0, 0, width, height)
    assert alpha.getextrema() == (0, 255)


@pytest.mark.parametrize("name", NAMES)
def test_compressed(name: str) -> None:
    """No bigger than 10 % over Pillow's optimised (non-interlaced) encoding of the pixels."""
    path = FOLDERS[0] / name
    optimised = io.BytesIO()
    opened(path).save(optimised, "PNG", optimize=True)
    assert path.stat().st_size <= 1.1 * len(optimised.getvalue())


def test_variants_differ() -> None:
    """The brands check refuses an @2x, dark_ or logo file identical to the one it replaces."""
    folder = FOLDERS[0]
    pairs = [
        ("icon.png", "icon@2x.png"),
        ("logo.png", "logo@2x.png"),
        ("icon.png", "logo.png"),
        ("icon@2x.png", "logo@2x.png"),
        ("logo.png", "dark_logo.png"),
        ("logo@2x.png", "dark_logo@2x.png"),
    ]
    for first, second in pairs:
        assert (folder / first).read_bytes() != (folder / second).read_bytes(), (first, second)


def test_hdpi_is_the_same_drawing() -> None:
    """Each @2x file, scaled down, is its 1x file (same drawing, not a different crop)."""
    folder = FOLDERS[0]
    for name in ("icon.png", "logo.png", "dark_logo.png"):
        small = opened(folder / name)
        large = opened(folder / name.replace(".png", "@2x.png"))
        assert abs(large.width - 2 * small.width) <= 1
        halved = np.asarray(large.resize(small.size, Image.Resampling.BOX), dtype=np.int16)
        difference = np.abs(halved - np.asarray(small, dtype=np.int16))
        assert difference[..., 3].mean() < 4, name


def test_addon_images() -> None:
    """The add-on store's icon and logo carry the same mark."""
    icon = opened(ADDON / "icon.png")
    assert (icon.format, icon.mode, icon.size) == ("PNG", "RGBA", (128, 128))
    logo = opened(ADDON / "logo.png")
    assert (logo.format, logo.mode, logo.size) == ("PNG", "RGBA", (250, 100))


def test_images_are_what_the_script_draws() -> None:
    """Every committed image has the pixels scripts/brand draws (run it after a change)."""
    drawn = brand.drawings()
    assert set(drawn) == {
        *(str((folder / name).relative_to(ROOT)) for folder in FOLDERS for name in NAMES),
        "addons/makerhub_firmware/icon.png",
        "addons/makerhub_firmware/logo.png",
    }
    for path, pixels in drawn.items():
        assert np.array_equal(np.asarray(opened(ROOT / path)), pixels), path


def test_png_encoding_round_trips() -> None:
    """The script's interlaced encoder gives back every pixel, odd sizes included."""
    rng = np.random.default_rng(7)
    for height, width in ((1, 1), (3, 5), (9, 17), (37, 23)):
        pixels = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
        decoded = Image.open(io.BytesIO(brand.png(pixels)))
        assert decoded.info.get("interlace") == 1
        assert np.array_equal(np.asarray(decoded.convert("RGBA")), pixels)
