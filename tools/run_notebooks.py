"""Execute notebooks top to bottom in a fresh kernel and store their outputs in place.

This is how every stored output in notebooks/ is produced (never by hand):

    python tools/run_notebooks.py                      # all lessons and solutions
    python tools/run_notebooks.py notebooks/00_tensors.ipynb
    python tools/run_notebooks.py --mirror ../shared/data   # offline: a temporary copy of a data mirror

The data root is TUTORIAL_DATA_DIR when set; ``--mirror DIR`` copies DIR to a temporary
folder and points TUTORIAL_DATA_DIR there (the mirror itself is never written).
Prints each notebook's run time. Those are not the times the README publishes: a run here
shares the CPU with whatever else the machine does (see the README's lesson table for how
those are measured).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert.preprocessors.coalescestreams import CoalesceStreamsPreprocessor

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
from series import KERNEL_ENV, notebooks  # noqa: E402


def run(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        allow_errors=False,  # a stored error is a bug: deliberate errors go through expect_error
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    # A cell's prints arrive in as many stream messages as the kernel happened to flush;
    # store them as one output per stream, so reruns give stable diffs (nbval joins them
    # anyway when it compares).
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    tmp = path.with_name(f".{path.name}.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="default: notebooks/*.ipynb and notebooks/solutions/*.ipynb")
    parser.add_argument("--mirror", type=Path, help="copy this data folder and use the copy")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args()

    for name, value in KERNEL_ENV.items():  # the kernel settings pytest --nbval uses
        os.environ.setdefault(name, value)
    paths = args.notebooks or notebooks()
    for path in paths:
        if not path.is_file() or path.suffix != ".ipynb":
            parser.error(f"expected an existing .ipynb file, got {path}")
    with tempfile.TemporaryDirectory(prefix="tutorial-data-") as tmp:
        if args.mirror is not None:
            if not args.mirror.is_dir():
                parser.error(f"--mirror must be a folder, got {args.mirror}")
            copy = Path(tmp) / "data"
            shutil.copytree(args.mirror, copy)
            os.chmod(copy, 0o755)
            for p in copy.rglob("*"):
                os.chmod(p, 0o755 if p.is_dir() else 0o644)
            os.environ["TUTORIAL_DATA_DIR"] = str(copy)
        print(f"data root: {os.environ.get('TUTORIAL_DATA_DIR', '(default: data/ in the repository)')}")
        for path in paths:
            seconds = run(path.resolve(), args.timeout)
            print(f"{path}: {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
