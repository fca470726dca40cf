"""Procedural chest-radiograph phantoms: the built-in demo images (no external files).

A phantom is built as an attenuation map of a frontal (PA) chest: soft tissue of the trunk,
air-filled lung fields (darker centrally), heart and mediastinum, aortic knob, trachea,
hila and branching pulmonary vessels, thoracic spine, posterior and anterior ribs,
clavicles, hemidiaphragms with the gastric bubble, then CR-like processing (edge
enhancement) and noise. Optional focal findings: ``nodule``, ``effusion``,
``cardiomegaly``, ``consolidation``. Everything is deterministic given the seed.

These are NOT real radiographs and must never be presented as such outside a demo;
:func:`stimuli.demo.write_demo_stimuli` labels them plainly in its manifest.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["FINDINGS", "PHANTOM_BITS", "make_phantom", "phantom_window", "to_stored"]

#: Focal findings :func:`make_phantom` can add.
FINDINGS = ("nodule", "effusion", "cardiomegaly", "consolidation")
#: Bits stored in the demo DICOMs.
PHANTOM_BITS = 12


def make_phantom(
    size: tuple[int, int] = (1024, 1024),
    seed: int = 0,
    findings: tuple[str, ...] | list[str] = (),
    *,
    style: str = "plain",
) -> NDArray[np.float64]:
    """Make a chest-radiograph phantom as display-oriented attenuation.

    Parameters
    ----------
    size : (width, height)
        Image size in px (>= 64 each).
    seed : int
        Seed of every random choice (anatomy jitter, vessels, findings, noise).
    findings : sequence of str
        Any of :data:`FINDINGS`.
    style : {'plain', 'smooth'}
        ``'smooth'`` gives the over-smooth texture typical of generated images (less
        noise, softer parenchyma): the demo's stand-ins for "synthetic" images.

    Returns
    -------
    numpy.ndarray of float64, shape (height, width)
        Values roughly in ``[0, 1]``: 0 is direct exposure (black), bone is near 1.
    """
    w, h = (int(v) for v in size)
    if w < 64 or h < 64:
        raise ValueError(f"phantom size {size!r} must be at least 64x64 px")
    unknown = [f for f in findings if f not in FINDINGS]
    if unknown:
        raise ValueError(f"unknown finding(s) {unknown!r}; choose from {', '.join(FINDINGS)}")
    if style not in ("plain", "smooth"):
        raise ValueError(f"style {style!r} must be 'plain' or 'smooth'")
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    px = 2.0 / w  # normalised units per pixel (u spans -1..1 across the width)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    u = (xx + 0.5) / w * 2.0 - 1.0  # image left (patient right) = -1
    v = (yy + 0.5) / h  # 0 top .. 1 bottom
    j = rng.normal(0.0, 1.0, 16)  # anatomy jitter

    # -- trunk soft tissue (elliptical cross-section per row, flattened by CR processing)
    half = np.interp(
        v,
        [0.0, 0.06, 0.1, 0.14, 0.18, 0.24, 0.35, 0.6, 1.0],
        [0.26, 0.28, 0.4, 0.66, 0.9, 1.04, 0.97 + 0.01 * j[0], 0.92 + 0.01 * j[1], 0.88],
    )
    t_body = np.sqrt(np.clip(1.0 - (u / half) ** 2, 0.0, 1.0))
    soft = 0.74 * t_body**0.3

    # -- cardiomediastinal silhouette: borders traced top to bottom (u at each v)
    big = 1.3 if "cardiomegaly" in findings else 1.0
    ju = 0.01 * j[2]
    vk = [0.05, 0.28, 0.33, 0.4, 0.47, 0.55, 0.62, 0.68, 0.73, 0.8]
    left_u = np.array([0.1, 0.11, 0.175, 0.14, 0.175, 0.28, 0.35, 0.37, 0.3, 0.2]) + ju
    right_u = np.array([-0.1, -0.1, -0.1, -0.105, -0.12, -0.16, -0.18, -0.165, -0.1, -0.08]) + ju
    grow_w = np.clip((np.array(vk) - 0.42) / 0.1, 0.0, 1.0) * (big - 1.0)
    left_u = left_u + (left_u - 0.03) * grow_w
    right_u = right_u + (right_u - 0.03) * grow_w * 0.6
    lb = np.interp(v, vk, left_u)
    rb = np.interp(v, vk, right_u)
    sil = _soft_step(np.minimum(lb - u, u - rb), 0.008) * _soft_step(0.8 - v, 0.02)
    heart = sil * _soft_step(v - 0.45, 0.05)

    # -- lungs (side = -1 image left / patient right, +1 image right / patient left)
    lung = np.zeros_like(u)
    lung_depth = np.zeros_like(u)
    lung_d_sides = []
    for side in (-1.0, 1.0):
        q = side * u
        sj = j[5] if side < 0 else j[6]
        lat = (
            np.interp(v, [0.1, 0.17, 0.3, 0.5, 0.7, 0.8], [0.3, 0.58, 0.76, 0.81, 0.81, 0.79])
            + 0.01 * sj
        )
        med = np.full_like(v, 0.1)
        apex = 0.12 + 1.6 * (q - 0.36) ** 2
        dome_top = (0.635 if side < 0 else 0.665) + 0.01 * sj
        dome = _dome(q, dome_top)
        d = np.minimum.reduce([q - med, lat - q, v - apex, dome - v])
        lung_d_sides.append(d)
        lung = np.maximum(lung, _soft_step(d, 0.004))
        lung_depth = np.maximum(lung_depth, np.sqrt(np.clip(d / 0.18, 0.0, 1.0)))
    lung *= 1.0 - sil
    dome_r = _dome(-u, 0.635 + 0.01 * j[5])
    dome_l = _dome(u, 0.665 + 0.01 * j[6])
    blend = _soft_step(u, 0.08)
    abdomen = _soft_step(v - ((1.0 - blend) * dome_r + blend * dome_l), 0.006)
    soft += 0.06 * abdomen * t_body**0.3
    # lungs are darkest in the upper and mid zones, lighter at the bases (soft tissue overlap)
    zone = 1.0 - 0.25 * _soft_step(v - 0.55, 0.06)
    air = 0.52 * lung * (0.62 + 0.38 * lung_depth) * zone

    # trachea and main bronchi: faint air columns
    trachea = _soft_step(0.028 - np.abs(u - 0.005 * v), 0.006) * _soft_step(0.35 - v, 0.012)
    for side in (-1.0, 1.0):
        s = np.clip((v - 0.33) / 0.07, 0.0, 1.0)
        centre = 0.005 + side * 0.08 * s
        band = _soft_step(0.02 - np.abs(u - centre), 0.006)
        trachea = np.maximum(
            trachea, band * _soft_step(v - 0.33, 0.008) * _soft_step(0.41 - v, 0.01)
        )
    air += 0.07 * trachea * t_body

    # gastric bubble under the left hemidiaphragm
    bubble = _soft_step(1.0 - np.hypot((u - 0.42) / 0.1, (v - 0.775) / 0.04), 0.1)
    bubble *= _soft_step(v - 0.75, 0.004)
    air += 0.14 * bubble

    # -- vessels from the hila, hilar shadows
    vessels = _vessel_tree(w, h, rng, px)
    for side in (-1.0, 1.0):
        hil = _soft_step(1.0 - np.hypot((u - side * 0.17) / 0.055, (v - 0.46) / 0.085), 0.3)
        vessels = np.maximum(vessels, 0.6 * hil)
    for side in (-1.0, 1.0):  # markings fade towards the periphery
        r_hil = np.hypot(u - side * 0.17, (v - 0.46) * 1.2)
        vessels *= np.where(side * u > 0, np.exp(-((r_hil / 0.5) ** 2)), 1.0)
    vessels *= lung

    # -- bones: faint through soft tissue, clearer over the lungs
    ribs = _ribs(u, v, rng, px) * (0.35 + 0.65 * lung)
    bone = 0.035 * _spine(u, v, px) + 0.15 * ribs + 0.16 * _clavicles(u, v, px)
    bone *= t_body > 0

    if "effusion" in findings:  # fluid replaces air at one base, meniscus higher laterally
        idx = 0 if rng.random() < 0.5 else 1
        q = (-1.0 if idx == 0 else 1.0) * u
        level = 0.56 + float(rng.uniform(0.0, 0.05))
        meniscus = level - 0.3 * np.clip(q - 0.3, 0.0, None) ** 1.5
        fluid = _soft_step(v - meniscus, 0.015) * _soft_step(lung_d_sides[idx] + 0.01, 0.006)
        air *= 1.0 - 0.92 * fluid
        vessels *= 1.0 - fluid

    att = soft + 0.03 * heart + 0.16 * vessels + bone - air

    # -- findings
    if "nodule" in findings:
        side = float(rng.choice([-1.0, 1.0]))
        nv = float(rng.uniform(0.25, 0.55))
        nu = side * float(rng.uniform(0.35, 0.6))
        r = float(rng.uniform(0.022, 0.035))
        att += 0.16 * _soft_step(1.0 - np.hypot(u - nu, v - nv) / r, 0.15) * lung
    if "consolidation" in findings:
        side = float(rng.choice([-1.0, 1.0]))
        blob = _soft_step(1.0 - np.hypot((u - side * 0.5) / 0.18, (v - 0.52) / 0.1), 0.3)
        patch = ndimage.gaussian_filter(rng.normal(size=(h, w)), sigma=6.0 / px / 200)
        patch = np.clip(0.6 + patch / (patch.std() + 1e-9) * 0.35, 0.0, 1.0)
        att += 0.22 * blob * patch * lung

    # -- parenchymal texture, CR processing, noise
    sigma_tex = 3.0 * w / 1024
    tex = ndimage.gaussian_filter(rng.normal(size=(h, w)), sigma=sigma_tex)
    tex /= tex.std() + 1e-12
    att += (0.012 if style == "plain" else 0.006) * tex * lung
    att = np.clip(att, 0.0, None)
    blur = ndimage.gaussian_filter(att, sigma=18.0 * w / 1024)
    att = att + 0.4 * (att - blur)  # unsharp mask as CR processing does
    noise_sd = 0.012 if style == "plain" else 0.004
    noise = ndimage.gaussian_filter(rng.normal(size=(h, w)), sigma=0.7) * (noise_sd * 2.0)
    att = att + noise * (t_body > 0)
    if style == "smooth":
        att = ndimage.gaussian_filter(att, sigma=0.9)
    return np.clip(att, 0.0, 1.0)


def phantom_window(bits: int = PHANTOM_BITS) -> tuple[float, float]:
    """Window ``(center, width)`` (stored units) under which :func:`to_stored` data look right."""
    top = 2**bits - 1
    return (round(0.47 * top), round(0.86 * top))


def to_stored(att: NDArray[np.float64], bits: int = PHANTOM_BITS) -> NDArray[np.uint16]:
    """Map phantom values in ``[0, 1]`` to unsigned ``bits``-bit stored values (MONOCHROME2).

    The result spans a bit more than :func:`phantom_window`, like a real detector's raw
    range, so the window matters.
    """
    top = 2**bits - 1
    c, wd = phantom_window(bits)
    lo = c - wd / 2.0
    s = lo + np.clip(att, 0.0, 1.0) * wd + 0.03 * top
    return np.clip(np.rint(s), 0, top).astype(np.uint16)


# ---------------------------------------------------------------------------- parts
def _soft_step(d: NDArray[np.float64] | float, width: float) -> NDArray[np.float64]:
    """0 outside, 1 inside, a smooth edge ``width`` wide around ``d == 0``."""
    return 0.5 * (1.0 + np.tanh(np.asarray(d, dtype=np.float64) / max(width, 1e-9)))


def _dome(q: NDArray[np.float64], top: float) -> NDArray[np.float64]:
    """Row of a hemidiaphragm at lateral position ``q``: steep laterally, flat medially."""
    d = np.maximum(q, 0.2) - 0.42  # flat under the heart
    return top + np.where(d > 0, 1.15, 0.5) * d**2


def _spine(u: NDArray[np.float64], v: NDArray[np.float64], px: float) -> NDArray[np.float64]:
    centre = 0.005 * v
    au = np.abs(u - centre)
    body = _soft_step(0.06 - au, 0.006) * _soft_step(v - 0.04, 0.01)
    period = 0.058
    phase = np.mod(v - 0.02, period) / period
    disc = _soft_step(np.abs(phase - 0.5) - 0.4, 0.03)  # dark band at each disc
    endplate = np.exp(-(((np.abs(phase - 0.5) - 0.37) / 0.03) ** 2))
    pedicle = np.zeros_like(u)
    for side in (-1.0, 1.0):
        pedicle += np.exp(
            -(((u - centre - side * 0.04) / 0.012) ** 2 + ((phase - 0.3) / 0.12) ** 2)
        )
    spinous = np.exp(-(((u - centre) / 0.01) ** 2 + ((phase - 0.7) / 0.15) ** 2))
    return body * (0.45 * (1.0 - 0.6 * disc) + 0.25 * endplate) + 0.25 * pedicle + 0.15 * spinous


def _rib_band(dist: NDArray[np.float64], half: float | NDArray[np.float64]) -> NDArray[np.float64]:
    """Cross-section of a rib: a tube with a brighter cortex at its margins."""
    r = np.clip(np.abs(dist) / half, 0.0, 1.5)
    tube = np.sqrt(np.clip(1.0 - r**2, 0.0, 1.0))
    cortex = np.exp(-(((r - 0.82) / 0.17) ** 2))
    return 0.5 * tube + 0.5 * cortex


def _ribs(
    u: NDArray[np.float64], v: NDArray[np.float64], rng: np.random.Generator, px: float
) -> NDArray[np.float64]:
    out = np.zeros_like(u)
    urow, vcol = u[0, :], v[:, 0]  # a rib's centre line depends on the column only
    tilt = float(rng.normal(0.0, 0.004))

    def add(
        centre: NDArray[np.float64],
        half: NDArray[np.float64] | float,
        ext: NDArray[np.float64],
        gain: float,
    ) -> None:
        cols = ext > 1e-4
        if not cols.any():
            return
        hmax = float(np.max(half)) * 1.6
        lo = float(np.min(centre[cols])) - hmax
        hi = float(np.max(centre[cols])) + hmax
        rows = np.flatnonzero((vcol >= lo) & (vcol <= hi))
        if rows.size == 0:
            return
        r0, r1 = int(rows[0]), int(rows[-1]) + 1
        hh = np.asarray(half, dtype=np.float64)
        band = _rib_band(vcol[r0:r1, None] - centre[None, :], hh[None, :] if hh.ndim else float(hh))
        out[r0:r1, :] += gain * band * ext[None, :]

    for side in (-1.0, 1.0):
        q = side * urow
        for k in range(10):
            # posterior rib: leaves the spine, arches slightly up, then curves down laterally
            v0 = 0.11 + 0.062 * k + side * tilt + float(rng.normal(0.0, 0.003))
            s = np.clip(q - 0.07, 0.0, None)
            bend = 0.5 + 0.015 * k + float(rng.normal(0.0, 0.02))
            centre = v0 - 0.17 * s + bend * s**2
            half = 0.013 + 0.005 * np.clip(s / 0.7, 0.0, 1.0) + 0.0005 * k
            extent = _soft_step(q - 0.08, 0.01) * _soft_step(0.86 - 0.04 * k / 9 - q, 0.02)
            add(centre, half, extent, 0.9)
            if k < 7:
                # anterior rib: from the lateral margin running down and medially, fading
                va = v0 + 0.11 + 0.01 * k
                sa = np.clip(0.82 - q, 0.0, None)
                centre_a = va + 0.34 * sa - 0.12 * sa**2
                ext_a = _soft_step(0.82 - q, 0.02) * _soft_step(q - 0.28, 0.06)
                add(centre_a, 0.016, ext_a, 0.22)
    return out


def _clavicles(u: NDArray[np.float64], v: NDArray[np.float64], px: float) -> NDArray[np.float64]:
    out = np.zeros_like(u)
    for side in (-1.0, 1.0):
        q = side * u
        s = np.clip((q - 0.07) / 0.55, 0.0, 1.0)
        centre = 0.165 - 0.06 * s + 0.03 * np.sin(2.0 * math.pi * s) * 0.5
        ext = _soft_step(q - 0.07, 0.01) * _soft_step(0.64 - q, 0.02)
        out += 1.1 * _rib_band(v - centre, 0.019) * ext
    return out


def _vessel_tree(w: int, h: int, rng: np.random.Generator, px: float) -> NDArray[np.float64]:
    from PIL import Image, ImageDraw
    from scipy import ndimage

    canvas = Image.new("F", (w, h), 0.0)
    draw = ImageDraw.Draw(canvas)
    scale = w / 1024.0

    def grow(x: float, y: float, ang: float, length: float, width: float, depth: int) -> None:
        if depth == 0 or width < 0.6 * scale:
            return
        steps = 4
        for _ in range(steps):
            ang += float(rng.normal(0.0, 0.12))
            nx = x + math.cos(ang) * length / steps
            ny = y + math.sin(ang) * length / steps
            draw.line([(x, y), (nx, ny)], fill=1.0, width=max(1, round(width)))
            x, y = nx, ny
        spread = float(rng.uniform(0.3, 0.6))
        for sgn in (-1.0, 1.0):
            grow(
                x,
                y,
                ang + sgn * spread,
                length * float(rng.uniform(0.68, 0.82)),
                width * 0.72,
                depth - 1,
            )

    for side in (-1.0, 1.0):
        hx = (1.0 + side * 0.17) / 2.0 * w
        hy = 0.46 * h
        for base in (-100.0, -60.0, -20.0, 25.0, 60.0, 95.0):
            ang = math.radians(base + float(rng.normal(0.0, 8.0)))
            dx = math.cos(ang) * side
            a = math.atan2(math.sin(ang), dx)
            grow(hx, hy, a, 100.0 * scale, 7.5 * scale, 5)
    arr = np.asarray(canvas, dtype=np.float64)
    return ndimage.gaussian_filter(arr, sigma=2.2 * scale)
