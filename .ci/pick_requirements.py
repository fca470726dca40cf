"""Print the requirements of pyproject.toml (dependencies and extras) that name the given packages.

Used by .ci/run for a lane that installs only part of gazeread's dependencies: the package
names are the lane's, the version bounds stay in pyproject.toml alone. A name that pyproject.toml
does not list is an error. Runs on Python 3.11+ (tomllib), or 3.10 with tomli installed.

    python .ci/pick_requirements.py numpy pylsl tobii-research > requirements.txt
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(names: list[str]) -> int:
    """Print the requirement of each name, in the order given; 2 if one is not listed."""
    pyproject = Path(__file__).parent.parent / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    listed = [*project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        listed += extra
    by_name = {_norm(re.match(r"[A-Za-z0-9._-]+", req)[0]): req for req in listed}
    missing = [n for n in names if _norm(n) not in by_name]
    if missing:
        print(f"pyproject.toml does not list {missing}", file=sys.stderr)
        return 2
    print("\n".join(by_name[_norm(n)] for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
