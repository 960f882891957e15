"""How much of a rendered figure's colour comes from the lecture palette (for the book's browser test).

A figure drawn with the palette has, apart from black, white and greys, only the palette's colours and their blends
with the white page (translucent fills, anti-aliased edges). :func:`off_palette_fraction` counts the strongly
coloured pixels of an image that are none of these.
"""

from __future__ import annotations

import io

import numpy as np

from cosp_helpers.plotting import OKABE_ITO

PALETTE = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in OKABE_ITO.values()], dtype=float)
CHROMA_MIN = 40.0  # max(RGB) - min(RGB) above which a pixel counts as coloured, not grey
TOLERANCE = 24.0  # RGB distance (0-255 units) within which a pixel is a palette colour blended with white
# Line figures drawn with the palette measured 0.0-0.6% off-palette pixels (where two lines cross, a blend of two
# palette colours); heat maps use a colour map instead and are not checked this way.
OFF_PALETTE_MAX = 0.02


def coloured_pixels(png: bytes) -> np.ndarray:
    """The RGB values (0-255, float) of the coloured pixels of a PNG image."""
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float).reshape(-1, 3)
    return rgb[rgb.max(axis=1) - rgb.min(axis=1) > CHROMA_MIN]


def off_palette_fraction(png: bytes) -> tuple[float, int]:
    """The fraction of coloured pixels that are no palette colour blended with white, and how many are coloured."""
    pixels = coloured_pixels(png)
    if len(pixels) == 0:
        return 0.0, 0
    white = np.full(3, 255.0)
    # the nearest point to each pixel on each segment from a palette colour to white: alpha * colour + (1 - alpha) * white
    direction = PALETTE - white  # (8, 3)
    alpha = np.clip(((pixels[:, None, :] - white) * direction).sum(-1) / (direction**2).sum(-1), 0.0, 1.0)
    nearest = white + alpha[..., None] * direction
    distance = np.linalg.norm(pixels[:, None, :] - nearest, axis=-1).min(axis=1)
    return float(np.mean(distance > TOLERANCE)), len(pixels)
