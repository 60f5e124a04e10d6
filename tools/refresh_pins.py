"""Pin every direct dependency to the version installed in this environment.

requirements.txt and environment.yml pin the exact versions the stored notebook outputs
were produced and tested with, so that a learner's `pip install -r requirements.txt`
prints what the lessons show. To move to newer releases:

    pip install --upgrade -r <(sed 's/==.*//' requirements.txt)   # or upgrade what you choose
    python tools/refresh_pins.py                                 # write the new pins
    python tools/run_notebooks.py --mirror ../shared/data         # regenerate stored outputs
    pytest --nbval                                               # and check them strictly

`--check` changes nothing and exits 1 when a pin differs from what is installed.
tests/test_environment_files.py checks that both files pin the same versions.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FILES = [REPO / "requirements.txt", REPO / "environment.yml"]
# "  - name==1.2.3" (environment.yml) or "name==1.2.3" (requirements.txt)
REQUIREMENT = re.compile(r"^(?P<lead>\s*(?:-\s+)?)(?P<name>[A-Za-z0-9][A-Za-z0-9_.\-]*)"
                         r"(?P<spec>\s*[=<>!~]=?[^#\s]*)(?P<tail>.*)$")
NOT_PACKAGES = {"python", "pip"}


def installed(name: str) -> str:
    return importlib.metadata.version(name)


def refresh(text: str) -> tuple[str, list[str]]:
    """Return ``text`` with each pinned requirement set to the installed version."""
    changes, lines = [], []
    for line in text.splitlines(keepends=True):
        match = REQUIREMENT.match(line.rstrip("\n"))
        if match and match["name"] not in NOT_PACKAGES and not line.lstrip().startswith("#"):
            version = installed(match["name"])
            new = f"{match['lead']}{match['name']}=={version}{match['tail']}\n"
            if new != line:
                changes.append(f"{match['name']}: {match['spec'].strip()} -> =={version}")
            line = new
        lines.append(line)
    return "".join(lines), changes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args()
    stale = False
    for path in FILES:
        new, changes = refresh(path.read_text(encoding="utf-8"))
        for change in changes:
            print(f"{path.name}: {change}")
        if changes:
            stale = True
            if not args.check:
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_text(new, encoding="utf-8")
                os.replace(tmp, path)
    if not stale:
        print("every pin matches the installed version")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
