"""Pixel checks for drawn boxes: the outline colour on the box edges, and nowhere far from them."""

from __future__ import annotations

import numpy as np

Box = tuple[float, float, float, float]


def to_display(box: list[float], x0: float, y0: float, scale: float) -> Box:
    """A box in frame pixels mapped to screenshot pixels (picture at x0, y0, scaled)."""
    x1, y1, x2, y2 = box
    return x0 + x1 * scale, y0 + y1 * scale, x0 + x2 * scale, y0 + y2 * scale


def near(img: np.ndarray, colour: tuple[int, int, int], tol: int) -> np.ndarray:
    """Mask (HxW) of pixels whose every channel is within `tol` of `colour` (same channel order)."""
    return np.abs(img[..., :3].astype(int) - np.array(colour)).max(axis=-1) <= tol


def edge_hits(img: np.ndarray, box: Box, colour: tuple[int, int, int], tol: int, n: int = 10) -> float:
    """Fraction of `n` points per edge (from 20% to 80% of it) with the colour within 1 px."""
    mask = near(img, colour, tol)
    x1, y1, x2, y2 = box
    points = []
    for f in np.linspace(0.2, 0.8, n):
        x, y = x1 + f * (x2 - x1), y1 + f * (y2 - y1)
        points += [(x, y1), (x, y2), (x1, y), (x2, y)]
    hits = 0
    for px, py in points:
        cx, cy = round(px), round(py)
        hits += bool(mask[max(0, cy - 1) : cy + 2, max(0, cx - 1) : cx + 2].any())
    return hits / len(points)


def stray_pixels(
    img: np.ndarray,
    box: Box,
    colour: tuple[int, int, int],
    tol: int,
    band: float = 6,
    label: tuple[float, float] = (0, 0),
) -> int:
    """Pixels of the colour farther than `band` px from every box edge, leaving out the label
    (`label` = width, height of the tag drawn above or inside the top-left corner)."""
    mask = near(img, colour, tol)
    h, w = mask.shape
    ys, xs = np.mgrid[0:h, 0:w]
    x1, y1, x2, y2 = box
    inside_outer = (xs >= x1 - band) & (xs <= x2 + band) & (ys >= y1 - band) & (ys <= y2 + band)
    inside_inner = (xs > x1 + band) & (xs < x2 - band) & (ys > y1 + band) & (ys < y2 - band)
    on_edges = inside_outer & ~inside_inner
    lw, lh = label
    tag = (xs >= x1 - band) & (xs <= x1 + lw + band) & (ys >= y1 - lh - band) & (ys <= y1 + lh + band)
    return int((mask & ~on_edges & ~tag).sum())
