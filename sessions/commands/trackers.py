"""``gazeread trackers``: which tracker backends can run here, and exactly why the others cannot."""

from __future__ import annotations

import argparse
import json

from acquisition.trackers import TrackerError, tracker_class, tracker_names
from sessions.commands.tables import render_table

HELP = "list the eye trackers usable on this machine, and why others are not"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--lsl-timeout``, ``--json``."""
    parser.add_argument(
        "--lsl-timeout",
        type=float,
        default=2.0,
        metavar="S",
        help="seconds to look for LSL gaze streams on the network (default 2)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--layouts",
        action="store_true",
        help="list the LSL stream layouts gazeread reads (vendor apps) instead of probing",
    )


def run(args: argparse.Namespace) -> int:
    """Probe every backend and print a table (or JSON)."""
    if args.layouts:
        return _print_layouts(args.json)
    report: dict[str, dict[str, object]] = {}
    for name in tracker_names():
        try:
            cls = tracker_class(name)
        except (ImportError, TrackerError) as exc:
            report[name] = {"available": False, "reason": f"backend not installed: {exc}"}
            continue
        avail = cls.is_available()
        entry: dict[str, object] = {"available": avail.ok, "reason": avail.reason}
        discover = getattr(cls, "discover", None)
        if avail.ok and callable(discover):
            try:
                # Tobii's own search (find_all_eyetrackers) takes about 2 s even with nothing there.
                timeout = max(args.lsl_timeout, 5.0) if name == "tobii" else args.lsl_timeout
                found = discover(timeout=timeout)
            except TrackerError as exc:
                entry.update(available=False, reason=str(exc))
            else:
                entry["devices"] = found
                if not found and getattr(cls, "needs_device", False):
                    entry["available"] = False
                    entry["reason"] = (
                        f"no device found within {timeout:g} s ({avail.reason.split(';')[0]}): "
                        "is it connected, powered and on this network?"
                    )
        report[name] = entry
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    rows = []
    for name, entry in report.items():
        rows.append((name, "yes" if entry["available"] else "no", entry["reason"]))
        devices = entry.get("devices")
        if isinstance(devices, list) and not devices and entry["available"]:
            rows.append(
                ("", "", f"- no {name} device or stream found within {args.lsl_timeout:g} s")
            )
        for dev in devices if isinstance(devices, list) else []:
            rows.append(("", "", f"- {dev}"))
    print(render_table([("tracker", "left"), ("usable", "left"), ("why", "left")], rows))
    return 0


def _print_layouts(as_json: bool) -> int:
    from acquisition.trackers.lsl_layouts import layout_table

    table = layout_table()
    if as_json:
        print(json.dumps(table, indent=2))
        return 0
    keys = list(table[0]) if table else []
    print(render_table([(k, "left") for k in keys], ([row[k] for k in keys] for row in table)))
    return 0
