"""`gazeread stimuli`: check stimulus manifests, write the demo phantoms, render what readers see.

    gazeread stimuli check MANIFEST [--json] [--no-images] [--require-deidentified]
    gazeread stimuli demo OUT_DIR [--seed 0] [--n 6] [--size 1024]
    gazeread stimuli render MANIFEST OUT_DIR

``check`` exits 0 when the manifest is usable (warnings allowed), 1 when it has problems
(every one is listed), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "check stimulus manifests and images; write the demo phantoms"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands ``check``, ``demo`` and ``render``."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    chk = sub.add_parser(
        "check", help="validate a manifest and summarise its images (exit 1 on problems)"
    )
    chk.add_argument("manifest", type=Path, help="the manifest CSV")
    chk.add_argument("--json", action="store_true", help="print the result as JSON")
    chk.add_argument(
        "--no-images", action="store_true", help="check files exist but do not decode the images"
    )
    chk.add_argument(
        "--require-deidentified",
        action="store_true",
        help="a DICOM whose header identifies a patient is a problem (exit 1), not a warning",
    )
    demo = sub.add_parser(
        "demo", help="write the built-in demo phantoms (PNG + DICOM) and their manifest"
    )
    demo.add_argument("out_dir", type=Path, help="folder to write into (created if missing)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--n", type=int, default=6, help="number of images (default 6)")
    demo.add_argument(
        "--size", type=int, default=1024, help="image width and height in px (default 1024)"
    )
    ren = sub.add_parser(
        "render", help="write each image as the reader will see it (8-bit PNG), to look at"
    )
    ren.add_argument("manifest", type=Path, help="the manifest CSV")
    ren.add_argument("out_dir", type=Path, help="folder for <image_id>.png")


def run(args: argparse.Namespace) -> int:
    """Dispatch to the action; returns the exit code."""
    action = getattr(args, "action", None)
    if action == "check":
        return _check(
            args.manifest,
            as_json=args.json,
            check_images=not args.no_images,
            require_deidentified=args.require_deidentified,
        )
    if action == "demo":
        return _demo(args.out_dir, args.seed, args.n, args.size)
    if action == "render":
        return _render(args.manifest, args.out_dir)
    print(
        "usage: gazeread stimuli {check MANIFEST | demo OUT_DIR | render MANIFEST OUT_DIR} (see --help)",
        file=sys.stderr,
    )
    return 2


def _check(
    manifest: Path, *, as_json: bool, check_images: bool, require_deidentified: bool = False
) -> int:
    from stimuli.manifest import check_manifest

    result = check_manifest(
        manifest, check_images=check_images, require_deidentified=require_deidentified
    )
    if as_json:
        payload = {
            "ok": result.ok,
            "problems": [str(p) for p in result.problems],
            "warnings": [str(w) for w in result.warnings],
            "summary": result.summary(),
            "identifying": result.identifying,
            "images": [
                {
                    "image_id": i.image_id, "kind": i.kind, "width": i.width, "height": i.height,
                    "bit_depth": i.bit_depth, "photometric": i.photometric, "display": i.display,
                    "pixel_spacing_mm": list(i.pixel_spacing_mm) if i.pixel_spacing_mm else None,
                    "sha256": i.sha256,
                }
                for i in result.images
            ],
        }  # fmt: skip
        print(json.dumps(payload, indent=2))
        return 0 if result.ok else 1
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if not result.ok:
        n = len(result.problems)
        print(
            f"{result.path}: {n} problem{'s' if n != 1 else ''}; fix them and run the check again:",
            file=sys.stderr,
        )
        for p in result.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    s = result.summary()

    def fmt(counts: dict[str, int]) -> str:
        return ", ".join(f"{k}: {v}" for k, v in counts.items()) or "-"

    print(f"{s['manifest']}: OK, {s['n_images']} images")
    print(f"  authenticity   {fmt(s['authenticity'])}")
    print(f"  generators     {fmt(s['generators'])}")
    print(f"  findings       {fmt(s['findings'])}")
    if check_images:
        print(f"  formats        {fmt(s['kinds'])}")
        print(f"  sizes (px)     {fmt(s['sizes'])}")
        print(f"  bit depths     {fmt(s['bit_depths'])}")
        print(f"  photometric    {fmt(s['photometric'])}")
        print(f"  display        {fmt(s['display'])}")
        print(f"  pixel spacing  {s['with_pixel_spacing']} of {s['n_images']} images")
    print(f"  window overrides in the manifest: {s['window_overrides']}")
    print(f"  manifest sha256 {s['sha256']}")
    return 0


def _demo(out_dir: Path, seed: int, n: int, size: int) -> int:
    from stimuli.demo import write_demo_stimuli

    if n < 1 or size < 64:
        print(
            f"gazeread stimuli demo: --n must be >= 1 and --size >= 64 (got {n}, {size})",
            file=sys.stderr,
        )
        return 2
    manifest = write_demo_stimuli(out_dir, seed=seed, n=n, size=(size, size))
    print(f"wrote {n} demo phantoms (not real radiographs) and {manifest}")
    print(f"check them with: gazeread stimuli check {manifest}")
    return 0


def _render(manifest: Path, out_dir: Path) -> int:
    import numpy as np
    from PIL import Image

    from stimuli.image import ImageLoadError
    from stimuli.loading import load_image
    from stimuli.manifest import ManifestError, load_manifest

    try:
        m = load_manifest(manifest, check_images=False)
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return 1
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for e in m:
        try:
            img = load_image(e.path, e.window, warn=False)
        except ImageLoadError as exc:
            print(f"{manifest}:{e.line}: {exc}", file=sys.stderr)
            failed += 1
            continue
        target = out_dir / f"{e.image_id}.png"
        Image.fromarray(np.asarray(img.pixels)).save(target)
        extra = f"; {'; '.join(img.notes)}" if img.notes else ""
        print(
            f"{target}  ({img.kind} {img.width}x{img.height}, {img.photometric}, {img.display}{extra})"
        )
    return 1 if failed else 0
