"""Smoke test of the benchmark scripts: they still run and print what they promise.

Speed is never checked here (a timed test fails on a slow machine); this only catches a
script broken by a change elsewhere, such as notebook 05's CNN cell moving or renaming.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import data_root

REPO = Path(__file__).resolve().parent.parent


def test_train_throughput_prints_every_way_and_a_ratio():
    if not (data_root() / "MNIST" / "raw").is_dir():  # the script would try to download it
        pytest.skip("needs MNIST under the data root (CI points it at a copy of the mirror)")
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "train_throughput.py"), "--steps", "2"],
        capture_output=True, text=True, timeout=300, cwd=REPO, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("seeds-style :") for line in lines), result.stdout
    assert any(line.startswith("tensors, 32 :") for line in lines), result.stdout
    assert any(line.startswith("notebook 05 :") for line in lines), result.stdout
    assert any(line.startswith("where the speed-up comes from:") for line in lines), result.stdout
    assert re.fullmatch(r"ratio: \d+\.\d\d", lines[-1]), lines[-1]


def test_train_throughput_rejects_a_bad_step_count():
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "train_throughput.py"), "--steps", "0"],
        capture_output=True, text=True, timeout=120, cwd=REPO, check=False,
    )
    assert result.returncode == 2
    assert "--steps must be at least 1" in result.stderr
