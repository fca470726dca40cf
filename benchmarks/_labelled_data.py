"""Loader for hand-labelled eye-movement recordings (``shared/testdata/eyemovements`` format).

A dataset folder holds ``<name>.tsv.gz`` files (header ``t_s, x_px, y_px, label_<CODER>...``,
``n/a`` for lost gaze) described in a ``recordings.json`` found in the folder itself or in its
parent (the testdata root holds one for all its dataset folders).
"""

from __future__ import annotations

import gzip
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from acquisition.geometry import ScreenGeometry
from acquisition.samples import empty_samples

__all__ = [
    "LabelledRecording",
    "downsample",
    "find_datasets",
    "load_dataset",
    "load_recording",
    "rms_s2s_deg",
]

#: Label codes used by the files: 1 fixation, 2 saccade, 3 PSO, 4 pursuit, 5 blink, 0/6 other.
FIXATION = 1


@dataclass
class LabelledRecording:
    """One recording with its coders' labels."""

    name: str
    dataset: str
    rate_hz: float
    screen: ScreenGeometry
    t: np.ndarray
    x_px: np.ndarray
    y_px: np.ndarray
    labels: dict[str, np.ndarray] = field(default_factory=dict)

    def samples(self) -> np.ndarray:
        """The recording as monocular (left-eye) :data:`SAMPLE_DTYPE` rows."""
        s = empty_samples(len(self.t))
        s["t"] = self.t
        ok = np.isfinite(self.x_px) & np.isfinite(self.y_px)
        s["left_x"] = np.where(ok, self.x_px / self.screen.width_px, np.nan)
        s["left_y"] = np.where(ok, self.y_px / self.screen.height_px, np.nan)
        s["left_valid"] = ok
        return s


def _meta_for(folder: Path) -> dict:
    for cand in (folder / "recordings.json", folder.parent / "recordings.json"):
        if cand.is_file():
            with cand.open(encoding="utf-8") as f:
                return dict(json.load(f))
    raise FileNotFoundError(
        f"no recordings.json in {folder} or {folder.parent}: it must give each recording's "
        "sampling_rate_hz, screen_resolution_px, screen_size_m, viewing_distance_m and coders"
    )


def find_datasets(root: Path) -> list[Path]:
    """Dataset folders under ``root``: ``root`` itself if it holds ``*.tsv.gz``, else its
    sub-folders that do (sorted)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"--data {root} is not a folder")
    if any(root.glob("*.tsv.gz")):
        return [root]
    found = sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("*.tsv.gz")))
    if not found:
        raise FileNotFoundError(f"no *.tsv.gz recordings in {root} or its sub-folders")
    return found


def load_recording(path: Path, meta: dict, dataset: str) -> LabelledRecording:
    """Read one ``.tsv.gz`` recording given its ``recordings.json`` entry."""
    name = path.name.removesuffix(".tsv.gz")
    try:
        res = meta["screen_resolution_px"]
        size = meta["screen_size_m"]
        screen = ScreenGeometry(
            width_px=round(res[0]),
            height_px=round(res[1]),
            width_mm=float(size[0]) * 1000.0,
            height_mm=float(size[1]) * 1000.0,
            distance_mm=float(meta["viewing_distance_m"]) * 1000.0,
        )
        rate = float(meta["sampling_rate_hz"])
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"recordings.json entry for {name!r} is incomplete: {exc!r}") from exc
    with gzip.open(path, "rt", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        data = np.genfromtxt(f, delimiter="\t", missing_values="n/a", filling_values=np.nan)
    data = np.atleast_2d(data)
    cols = {h: data[:, i] for i, h in enumerate(header)}
    for need in ("t_s", "x_px", "y_px"):
        if need not in cols:
            raise ValueError(f"{path}: missing column {need!r} (header is {header})")
    labels = {
        h.removeprefix("label_"): np.nan_to_num(c, nan=0).astype(np.int8)
        for h, c in cols.items()
        if h.startswith("label_")
    }
    expected = meta.get("n_samples")
    if expected is not None and int(expected) != len(cols["t_s"]):
        print(
            f"warning: {path} has {len(cols['t_s'])} samples, recordings.json says {expected}",
            file=sys.stderr,
        )
    coders = meta.get("coders")
    if coders:
        labels = {c: labels[c] for c in coders if c in labels}
    return LabelledRecording(
        name, dataset, rate, screen, cols["t_s"], cols["x_px"], cols["y_px"], labels
    )


def load_dataset(folder: Path) -> list[LabelledRecording]:
    """All recordings of a dataset folder, sorted by name."""
    folder = Path(folder)
    meta = _meta_for(folder)
    out = []
    for p in sorted(folder.glob("*.tsv.gz")):
        name = p.name.removesuffix(".tsv.gz")
        if name not in meta:
            raise ValueError(f"{p}: no entry {name!r} in recordings.json")
        out.append(load_recording(p, meta[name], folder.name))
    return out


def downsample(rec: LabelledRecording, rate_hz: float) -> LabelledRecording:
    """The recording as a tracker at ``rate_hz`` would have given it.

    For each time of a uniform grid at the new rate the nearest original sample is kept, with
    its gaze and its coders' labels (the labels are taken at the kept samples); the times are
    the grid's (a real tracker's are regular). Nothing is interpolated.
    """
    import dataclasses

    if not 0 < rate_hz <= rec.rate_hz:
        raise ValueError(f"{rec.name}: cannot down-sample {rec.rate_hz:g} Hz to {rate_hz:g} Hz")
    t0 = float(rec.t[0])
    n = int(np.floor((float(rec.t[-1]) - t0) * rate_hz)) + 1
    grid = t0 + np.arange(n) / rate_hz
    idx = np.clip(np.rint((grid - t0) * rec.rate_hz).astype(np.int64), 0, len(rec.t) - 1)
    return dataclasses.replace(
        rec,
        rate_hz=float(rate_hz),
        t=grid,
        x_px=rec.x_px[idx],
        y_px=rec.y_px[idx],
        labels={c: lab[idx] for c, lab in rec.labels.items()},
    )


def rms_s2s_deg(rec: LabelledRecording) -> float:
    """RMS sample-to-sample distance of the gaze (deg; pairs of valid neighbours, saccades
    left out above the 90th percentile): the precision figure Tobii Pro Lab reports."""
    from acquisition.geometry import px_to_deg

    xd, yd = px_to_deg(rec.screen, rec.x_px, rec.y_px)
    d = np.hypot(np.diff(xd), np.diff(yd))
    d = d[np.isfinite(d)]
    if len(d) == 0:
        return float("nan")
    d = d[d <= np.percentile(d, 90)]
    return float(np.sqrt(np.mean(d**2)))
